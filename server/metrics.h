// What the server reports to operators. The service calls this interface;
// server/prometheus_metrics.h implements it with prometheus-cpp on
// --metrics_port (/metrics), and MakeNullMetrics() discards everything.
//
// Label discipline: `task` is a registered adapter name, "" for the base
// model, or "other" for anything else: never a prompt or free text.
// Threading: every method may be called from any thread at any time.
#ifndef VLSM_SERVER_METRICS_H_
#define VLSM_SERVER_METRICS_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vlsm {

class ServerMetrics {
 public:
  virtual ~ServerMetrics() = default;
  // One finished RPC (rpc: "Segment", "SegmentStream", "UploadAdapter", ...).
  virtual void RecordRequest(absl::string_view rpc, absl::StatusCode code,
                             absl::string_view task) = 0;
  // stage: "queue", "compute" or "total"; seconds.
  virtual void ObserveLatency(absl::string_view stage, double seconds) = 0;
  virtual void ObserveBatch(int images, int rows) = 0;
  virtual void SetQueueDepth(int depth) = 0;
  virtual void SetInFlight(int requests) = 0;
  virtual void SetAdapters(int loaded, int64_t bytes) = 0;
  // Adapter versions with a copy on the serving device, and its bytes.
  virtual void SetResidentAdapters(int resident, int64_t bytes) = 0;
  // Cumulative counts of the engine's conditional-embedding cache.
  virtual void SetConditionCache(uint64_t hits, uint64_t misses) = 0;
  // One mask returned for `task`; empty = no foreground pixel.
  virtual void ObserveMask(absl::string_view task, bool empty) = 0;
};

std::unique_ptr<ServerMetrics> MakeNullMetrics();

}  // namespace vlsm

#endif  // VLSM_SERVER_METRICS_H_
