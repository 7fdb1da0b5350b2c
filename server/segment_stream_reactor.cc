#include "server/segment_stream_reactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/call_util.h"
#include "server/status_util.h"

namespace vlsm {
namespace {

absl::Status WithId(const std::string& id, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("request_id ", id, ": ", status.message()));
}

}  // namespace

SegmentStreamReactor::SegmentStreamReactor(const SegmentProcessor* processor,
                                           const AdapterRegistry* registry, ServerMetrics* metrics,
                                           grpc::CallbackServerContext* context, int max_in_flight)
    : processor_(processor),
      registry_(registry),
      metrics_(metrics),
      deadline_(DeadlineOf(*context)),
      max_in_flight_(std::max(1, max_in_flight)) {
  {
    absl::MutexLock lock(&mu_);
    read_buffer_ = std::make_unique<v1::SegmentRequest>();
  }
  Step();
}

void SegmentStreamReactor::OnReadDone(bool ok) {
  uint64_t slot_id = 0;
  const v1::SegmentRequest* request = nullptr;
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;
    } else if (error_.ok()) {
      const std::string& id = read_buffer_->request_id();
      if (id.empty()) {
        FailLocked(absl::InvalidArgumentError("SegmentStream requests need a request_id"));
      } else if (!ids_.insert(id).second) {
        FailLocked(WithId(id, absl::InvalidArgumentError("duplicate request_id in flight")));
      } else {
        const std::string label = TaskLabel(*registry_, read_buffer_->task());
        if (!task_label_.has_value()) {
          task_label_ = label;
        } else if (*task_label_ != label) {
          task_label_ = "other";  // a stream mixing tasks
        }
        slot_id = next_slot_++;
        Slot& slot = slots_[slot_id];
        slot.request = std::move(read_buffer_);
        read_buffer_ = std::make_unique<v1::SegmentRequest>();
        request = slot.request.get();
        ++pending_results_;
      }
    }
  }
  if (request != nullptr) Admit(slot_id, request);
  Step();
}

void SegmentStreamReactor::Admit(uint64_t slot_id, const v1::SegmentRequest* request) {
  SegmentProcessor::Call call;
  call.request = request;
  call.deadline = deadline_;
  {
    absl::MutexLock lock(&mu_);
    call.cancelled = slots_[slot_id].cancelled;
  }
  call.done = [this, slot_id](absl::StatusOr<std::vector<v1::SegmentResponse>> result) {
    OnResult(slot_id, std::move(result));
  };
  absl::Status s = processor_->Start(std::move(call));
  if (!s.ok()) OnResult(slot_id, s);
}

void SegmentStreamReactor::OnResult(uint64_t slot_id,
                                    absl::StatusOr<std::vector<v1::SegmentResponse>> result) {
  {
    absl::MutexLock lock(&mu_);
    --pending_results_;
    auto it = slots_.find(slot_id);
    if (!result.ok()) {
      FailLocked(WithId(it->second.request->request_id(), result.status()));
      ids_.erase(it->second.request->request_id());
      slots_.erase(it);
    } else if (error_.ok()) {
      for (size_t k = 0; k < result->size(); ++k) {
        writes_.push_back({std::move((*result)[k]), slot_id, k + 1 == result->size()});
      }
    }
  }
  Step();
}

void SegmentStreamReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    const Pending done = std::move(writes_.front());
    writes_.pop_front();
    if (!ok) {
      FailLocked(absl::CancelledError("the client went away"));
    } else if (done.last) {
      auto it = slots_.find(done.slot);
      ids_.erase(it->second.request->request_id());
      slots_.erase(it);
    }
  }
  Step();
}

void SegmentStreamReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    FailLocked(absl::CancelledError("the client cancelled the stream"));
  }
  Step();
}

void SegmentStreamReactor::FailLocked(const absl::Status& status) {
  if (error_.ok()) error_ = status;
  for (auto& [id, slot] : slots_) slot.cancelled->store(true);
}

void SegmentStreamReactor::Step() {
  v1::SegmentRequest* read = nullptr;
  const v1::SegmentResponse* write = nullptr;
  bool finish = false, notify_cancelled = false;
  absl::Status status;
  std::string task_label;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!error_.ok()) {
      // Drop what was not written; wait for the admitted requests to end.
      while (writes_.size() > (writing_ ? 1u : 0u)) writes_.pop_back();
      notify_cancelled = pending_results_ > 0;
      finish = pending_results_ == 0 && !writing_;
    } else {
      if (!writing_ && !writes_.empty()) {
        writing_ = true;
        write = &writes_.front().response;
      }
      if (!reading_ && !reads_done_ && slots_.size() < max_in_flight_) {
        reading_ = true;
        read = read_buffer_.get();
      }
      finish = reads_done_ && slots_.empty() && !writing_;
    }
    if (finish) {
      finished_ = true;
      status = error_;
      task_label = task_label_.value_or("");
    }
  }
  if (notify_cancelled) processor_->NotifyCancelled();
  if (write != nullptr) StartWrite(write);
  if (read != nullptr) StartRead(read);
  if (finish) {
    metrics_->RecordRequest("SegmentStream", status.code(), task_label);
    Finish(ToGrpcStatus(status));
  }
}

}  // namespace vlsm
