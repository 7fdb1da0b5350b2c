// One SegmentStream call: a ServerBidiReactor that runs each incoming
// SegmentRequest like Segment and streams the responses back with the
// request's request_id.
//
// Flow control: at most `max_in_flight` requests are admitted at a time
// (admitted = read and not yet fully written back); the next read starts
// only when a slot is free, so a fast client is held back by HTTP/2 flow
// control instead of by server memory. One read and one write in flight;
// responses wait in a queue.
// Completion: OK once the client half-closed and every response was written.
// The first failing request (bad request, missing or duplicate in-flight
// request_id, unknown task, queue full, ...) fails the whole stream with its
// status, prefixed with its request_id; the other admitted requests are
// cancelled and awaited before Finish.
//
// Metrics: one vlsm_requests_total per stream, labelled with its requests'
// task (TaskLabel: "" base model, the adapter name); "other" when they
// differ or are not registered.
// Ownership: borrows the processor, registry and metrics; deletes itself in OnDone,
// which gRPC calls only after Finish, itself called only when no processor
// callback is pending.
// Threading: the gRPC reactions and the processor's `done` callbacks run on
// different threads; one mutex guards the state and is never held while
// calling StartRead / StartWrite / Finish or the processor.
#ifndef VLSM_SERVER_SEGMENT_STREAM_REACTOR_H_
#define VLSM_SERVER_SEGMENT_STREAM_REACTOR_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/adapter_registry.h"
#include "server/metrics.h"
#include "server/segment_processor.h"
#include "vlsm/v1/segmentation.pb.h"

namespace vlsm {

class SegmentStreamReactor final
    : public grpc::ServerBidiReactor<v1::SegmentRequest, v1::SegmentResponse> {
 public:
  SegmentStreamReactor(const SegmentProcessor* processor, const AdapterRegistry* registry,
                       ServerMetrics* metrics, grpc::CallbackServerContext* context,
                       int max_in_flight);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  struct Slot {
    std::unique_ptr<v1::SegmentRequest> request;
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  };
  struct Pending {
    v1::SegmentResponse response;
    uint64_t slot = 0;
    bool last = false;  // the slot's last response
  };

  void Admit(uint64_t slot_id, const v1::SegmentRequest* request);
  void OnResult(uint64_t slot_id, absl::StatusOr<std::vector<v1::SegmentResponse>> result);
  // Records the stream's first error and cancels the admitted requests.
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decides under the lock what to start next, then starts it outside.
  void Step() ABSL_LOCKS_EXCLUDED(mu_);

  const SegmentProcessor* processor_;
  const AdapterRegistry* registry_;
  ServerMetrics* metrics_;
  const absl::Time deadline_;
  const size_t max_in_flight_;

  absl::Mutex mu_;
  std::unique_ptr<v1::SegmentRequest> read_buffer_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Slot> slots_ ABSL_GUARDED_BY(mu_);  // admitted
  std::set<std::string> ids_ ABSL_GUARDED_BY(mu_);       // request_ids of slots_
  std::deque<Pending> writes_ ABSL_GUARDED_BY(mu_);      // front is in flight when writing_
  uint64_t next_slot_ ABSL_GUARDED_BY(mu_) = 0;
  int pending_results_ ABSL_GUARDED_BY(mu_) = 0;  // started, `done` not yet run
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<std::string> task_label_ ABSL_GUARDED_BY(mu_);  // set by the first request
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vlsm

#endif  // VLSM_SERVER_SEGMENT_STREAM_REACTOR_H_
