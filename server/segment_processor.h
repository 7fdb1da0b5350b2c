// One SegmentRequest in, one SegmentResponse per prompt out: the work both
// Segment and SegmentStream share.
//
// Pipeline: Start() validates the request and resolves its task on the
// calling thread (cheap, never blocks); the image is decoded and the prompts
// tokenized on the WorkerPool; one BatchTask (the image with all its prompts)
// goes to the DynamicBatcher; when the batch completes, masks, overlays and
// timings are encoded on the WorkerPool and handed to `done`.
//
// Ownership: borrows the pipeline, registry, batcher, pool and metrics, which
// must outlive every started request. `request` is borrowed too and must stay
// valid until `done` runs. The resolved AdapterVersion is held until `done`,
// so a label swap or delete never changes admitted work.
// Threading: Start and NotifyCancelled are safe from any thread. `done` runs
// exactly once per OK Start, on a pool or batcher thread, and must not block.
// DICOM_SEG: each response's mask is a DICOM SEG (model/dicom_seg.h) of the
// request's DICOM instance (its `frame` for a multi-frame one) with one
// segment labelled with the response's prompt; the algorithm name and version
// name the base model's weights fingerprint and the adapter name@version.
//
// Errors: Start returns InvalidArgument (missing image, too many or too long
// prompts, no prompt at all, DICOM_SEG for raw pixels or with model_size),
// NotFound (unknown task) without calling `done`. `done` gets
// InvalidArgument for an undecodable image or prompt, DICOM_SEG for an image
// that is not DICOM or a DICOM the SEG cannot reference (e.g. no UIDs), the
// batcher's admission error
// (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, CANCELLED, UNAVAILABLE) or its
// outcome, or the responses.
#ifndef VLSM_SERVER_SEGMENT_PROCESSOR_H_
#define VLSM_SERVER_SEGMENT_PROCESSOR_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/pipeline.h"
#include "server/adapter_registry.h"
#include "server/batcher.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "vlsm/v1/segmentation.pb.h"

namespace vlsm {

class SegmentProcessor {
 public:
  static constexpr int kMaxPrompts = 64;
  static constexpr size_t kMaxPromptBytes = 16 << 10;

  using Done = std::function<void(absl::StatusOr<std::vector<v1::SegmentResponse>>)>;

  struct Call {
    const v1::SegmentRequest* request = nullptr;  // borrowed until `done`
    absl::Time received = absl::Now();
    absl::Time deadline = absl::InfiniteFuture();
    // Set by the caller to cancel; shared with the batcher.
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
    Done done;
  };

  SegmentProcessor(const Pipeline* pipeline, const AdapterRegistry* registry,
                   DynamicBatcher* batcher, WorkerPool* pool, ServerMetrics* metrics)
      : pipeline_(pipeline),
        registry_(registry),
        batcher_(batcher),
        pool_(pool),
        metrics_(metrics) {}

  // On OK, call.done will be called exactly once.
  absl::Status Start(Call call) const;
  // Wakes the batcher after a caller set a `cancelled` flag.
  void NotifyCancelled() const { batcher_->NotifyCancelled(); }

 private:
  struct Job;
  void Prepare(std::shared_ptr<Job> job) const;
  void Encode(std::shared_ptr<Job> job, std::vector<HostTensor> logits,
              const BatchStats& stats) const;
  absl::Status EncodeSeg(const Job& job, size_t k, const std::vector<uint8_t>& bits,
                         v1::Mask* mask) const;

  const Pipeline* pipeline_;
  const AdapterRegistry* registry_;
  DynamicBatcher* batcher_;
  WorkerPool* pool_;
  ServerMetrics* metrics_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_SEGMENT_PROCESSOR_H_
