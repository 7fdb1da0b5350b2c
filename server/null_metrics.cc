// MakeNullMetrics: a ServerMetrics that discards everything (used when the
// Prometheus exporter is not built or --metrics_port is 0).
#include "server/metrics.h"

namespace vlsm {
namespace {

class NullMetrics final : public ServerMetrics {
 public:
  void RecordRequest(absl::string_view, absl::StatusCode, absl::string_view) override {}
  void ObserveLatency(absl::string_view, double) override {}
  void ObserveBatch(int, int) override {}
  void SetQueueDepth(int) override {}
  void SetInFlight(int) override {}
  void SetAdapters(int, int64_t) override {}
  void SetResidentAdapters(int, int64_t) override {}
  void SetConditionCache(uint64_t, uint64_t) override {}
  void ObserveMask(absl::string_view, bool) override {}
};

}  // namespace

std::unique_ptr<ServerMetrics> MakeNullMetrics() { return std::make_unique<NullMetrics>(); }

}  // namespace vlsm
