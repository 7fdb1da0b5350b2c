#include "server/segmentation_service.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/call_util.h"
#include "server/segment_stream_reactor.h"
#include "server/status_util.h"

namespace vlsm {
namespace {

// One Segment call. Lifetime: deleted by OnDone, which gRPC calls only after
// Finish, and Finish is called only once the processor's `done` ran (or
// Start failed), so no callback can outlive the reactor.
class SegmentReactor final : public grpc::ServerWriteReactor<v1::SegmentResponse> {
 public:
  SegmentReactor(const SegmentProcessor* processor, ServerMetrics* metrics, std::string task_label,
                 grpc::CallbackServerContext* context, const v1::SegmentRequest* request)
      : processor_(processor), metrics_(metrics), task_label_(std::move(task_label)) {
    SegmentProcessor::Call call;
    call.request = request;
    call.deadline = DeadlineOf(*context);
    call.cancelled = cancelled_;
    call.done = [this](absl::StatusOr<std::vector<v1::SegmentResponse>> result) {
      OnResult(std::move(result));
    };
    if (absl::Status s = processor_->Start(std::move(call)); !s.ok()) Done(s);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Done(absl::CancelledError("the client went away"));
    WriteNext();
  }
  void OnCancel() override {
    cancelled_->store(true);
    processor_->NotifyCancelled();
  }
  void OnDone() override { delete this; }

 private:
  // Runs once, on a pool or batcher thread; the writes then chain through
  // OnWriteDone, so `responses_` has one user at a time.
  void OnResult(absl::StatusOr<std::vector<v1::SegmentResponse>> result) {
    if (!result.ok()) return Done(result.status());
    responses_ = *std::move(result);
    WriteNext();
  }
  void WriteNext() {
    if (next_ == responses_.size()) return Done(absl::OkStatus());
    StartWrite(&responses_[next_++]);
  }
  void Done(const absl::Status& status) {
    metrics_->RecordRequest("Segment", status.code(), task_label_);
    Finish(ToGrpcStatus(status));
  }

  const SegmentProcessor* processor_;
  ServerMetrics* metrics_;
  const std::string task_label_;
  const std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::vector<v1::SegmentResponse> responses_;
  size_t next_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<v1::SegmentResponse>* SegmentationServiceImpl::Segment(
    grpc::CallbackServerContext* context, const v1::SegmentRequest* request) {
  return new SegmentReactor(processor_, metrics_, TaskLabel(*registry_, request->task()), context,
                            request);
}

grpc::ServerBidiReactor<v1::SegmentRequest, v1::SegmentResponse>*
SegmentationServiceImpl::SegmentStream(grpc::CallbackServerContext* context) {
  return new SegmentStreamReactor(processor_, registry_, metrics_, context,
                                  options_.stream_max_in_flight);
}

}  // namespace vlsm
