// The bridge's work between receiving and delivering:
//
//   SeriesProcessor  one spooled series -> route -> slices in order ->
//                    SegmentStream -> one DICOM SEG per prompt in the outbox
//   PacsBridge       the two loops around it: series whose quiet time passed
//                    go to the processor (transient failures come back with
//                    backoff), and the delivery queue runs whenever work is due
//
// Outcomes of one series:
//   segmented  SEGs written to the outbox; instances journaled and removed
//   unrouted   no rule matched: logged (hashed UID) and dropped from the spool
//   retry      the service was unavailable, the deadline passed, the task is
//              unknown, ...: the series stays spooled and is tried again
//   failed     the service refused the images (InvalidArgument) or the SEG
//              could not be built: moved to <spool>/failed/ for an operator
//
// Ownership: both borrow everything they are given (must outlive them).
// Threading: SeriesProcessor::Process may run on one thread at a time per
// series; PacsBridge's methods are thread-safe; Stop joins its threads.
// Errors: none returned; outcomes are logged (no identifiers) and counted.
#ifndef VLSM_CLIENT_PACS_BRIDGE_H_
#define VLSM_CLIENT_PACS_BRIDGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/pacs_clock.h"
#include "client/pacs_delivery.h"
#include "client/pacs_metrics.h"
#include "client/pacs_routing.h"
#include "client/pacs_scp.h"
#include "client/pacs_segmenter.h"
#include "client/pacs_series_assembler.h"
#include "client/pacs_spool.h"

namespace vlsm::pacs {

struct ProcessorOptions {
  bool omit_empty_frames = false;  // a rule's omit_empty_frames wins
  std::string base_model_name = "CLIPSeg";
  std::string software_version = "0.1";
  int32_t series_number = 9001;
};

class SeriesProcessor {
 public:
  enum class Outcome { kSegmented, kUnrouted, kRetry, kFailed };

  SeriesProcessor(Spool* spool, const Router* router, SliceSegmenter* segmenter,
                  DeliveryQueue* delivery, ProcessorOptions options)
      : spool_(spool),
        router_(router),
        segmenter_(segmenter),
        delivery_(delivery),
        options_(std::move(options)) {}

  Outcome Process(const std::string& series_key, absl::Time last_received);
  // Shutdown: a running Process ends soon with kRetry (the series stays spooled).
  void Cancel() { segmenter_->Cancel(); }

 private:
  Spool* const spool_;
  const Router* const router_;
  SliceSegmenter* const segmenter_;
  DeliveryQueue* const delivery_;
  const ProcessorOptions options_;
};

const char* OutcomeName(SeriesProcessor::Outcome outcome);

class PacsBridge {
 public:
  PacsBridge(Spool* spool, SeriesAssembler* assembler, SeriesProcessor* processor,
             DeliveryQueue* delivery, BackoffPolicy series_retry, Clock* clock,
             BridgeMetrics* metrics);
  ~PacsBridge();

  // Re-queues what the spool holds (series by their newest mtime, outbox
  // entries due now), then starts the loops.
  void Start();
  // From the SCP: an instance of the series was stored.
  void OnStored(const StoredInstance& stored);
  void Stop();

 private:
  void ProcessLoop();
  void DeliveryLoop();
  // Sleeps until `due` (at most 1 s), a Wake(), or Stop(); false once stopping.
  bool WaitForWork(std::optional<absl::Time> due);
  void Wake();

  Spool* const spool_;
  SeriesAssembler* const assembler_;
  SeriesProcessor* const processor_;
  DeliveryQueue* const delivery_;
  const BackoffPolicy series_retry_;
  Clock* const clock_;
  BridgeMetrics* const metrics_;

  absl::Mutex mu_;
  absl::CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by Wake
  std::thread processor_thread_;
  std::thread delivery_thread_;
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_BRIDGE_H_
