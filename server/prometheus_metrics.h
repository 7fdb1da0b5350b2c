// ServerMetrics exported in the Prometheus text format on
// http://<bind_address>/metrics (prometheus-cpp's registry and text
// serializer; a small HTTP endpoint of ours, see metrics_http.h).
//
// Metric names (operators' dashboards and alerts rely on them; renaming one
// is a breaking change):
//
//   vlsm_requests_total{rpc,code,task}        counter; one per finished RPC.
//       code is the gRPC status name ("OK", "NOT_FOUND", ...).
//   vlsm_request_latency_seconds{stage}       histogram; stage is "queue",
//       "compute" or "total" (anything else is counted as "other").
//       Buckets: 1 ms * 2^k up to 16.384 s, then 30 s (+Inf).
//   vlsm_batch_size                           histogram of images per batch;
//       buckets 1, 2, 4, 8, 16, 32, 64.
//   vlsm_batch_rows                           histogram of prompts (rows) per
//       batch; buckets 1, 2, 4, ..., 256.
//   vlsm_queue_depth                          gauge.
//   vlsm_in_flight_requests                   gauge.
//   vlsm_adapters_loaded                      gauge; versions registered.
//   vlsm_adapter_bytes                        gauge; their weights' bytes.
//   vlsm_adapters_resident                    gauge; versions with a copy on
//       the serving device (see --adapter_device_budget_bytes).
//   vlsm_adapter_resident_bytes               gauge; bytes of those copies.
//   vlsm_condition_cache_hits_total           counter.
//   vlsm_condition_cache_misses_total         counter.
//       SetConditionCache() receives the engine's cumulative counts; these
//       are real counters incremented by the delta since the previous call
//       (so rate()/increase() work and the TYPE is "counter"). If a count
//       goes backwards (the engine's cache was reset), the new value is taken
//       as counted from zero and added in full; the exported series never
//       decreases.
//   vlsm_masks_total{task}                    counter; masks returned.
//   vlsm_empty_masks_total{task}              counter; of those, empty ones
//       (created together with vlsm_masks_total, so the ratio is 0, not
//       absent). Empty-mask rate per task:
//         sum by (task) (rate(vlsm_empty_masks_total[5m]))
//           / sum by (task) (rate(vlsm_masks_total[5m]))
//
// prometheus-cpp also exports its own exposer_* series (scrapes, bytes).
//
// Label discipline (see server/metrics.h): `task` must be an adapter name,
// "" (base model) or "other". As a second line of defence at most
// kMaxTaskLabels distinct task values are exported across all families;
// later new values are folded into "other" ("" and "other" never count
// against the cap). rpc values are likewise capped at kMaxRpcLabels.
//
// Ownership: the returned object owns the registry and the HTTP server;
// destroying it stops serving /metrics (joins the endpoint's thread).
// Threading: every method is thread-safe; label children are created lazily
// on first use and cached.
// Errors: StartPrometheusMetrics never lets an exception escape; a bind
// failure (port in use, bad address, no permission) is UnavailableError, an
// empty address is InvalidArgumentError.
#ifndef VLSM_SERVER_PROMETHEUS_METRICS_H_
#define VLSM_SERVER_PROMETHEUS_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/metrics.h"

namespace vlsm {

class PrometheusMetrics : public ServerMetrics {
 public:
  static constexpr int kMaxTaskLabels = 256;
  static constexpr int kMaxRpcLabels = 64;

  // The TCP port actually bound (useful with port 0).
  virtual int port() const = 0;
};

// Starts serving /metrics on `bind_address` ("127.0.0.1:0", "0.0.0.0:9090",
// "9090"). The result converts to
// absl::StatusOr<std::unique_ptr<ServerMetrics>> where port() is not needed.
absl::StatusOr<std::unique_ptr<PrometheusMetrics>> StartPrometheusMetrics(
    const std::string& bind_address);

}  // namespace vlsm

#endif  // VLSM_SERVER_PROMETHEUS_METRICS_H_
