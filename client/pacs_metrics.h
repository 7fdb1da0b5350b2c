// vlsm-pacs-bridge's operator metrics, exported in the Prometheus text
// format on http://<bind>/metrics (prometheus-cpp registry, served by the
// project's small endpoint, server/metrics_http.h).
//
//   vlsm_pacs_instances_received_total{outcome}   stored | duplicate | rejected
//   vlsm_pacs_series_processed_total{outcome}     segmented | unrouted | failed | retry
//   vlsm_pacs_segs_delivered_total{destination}   dicom | stow
//   vlsm_pacs_seg_delivery_failures_total{destination}   failed attempts (retried)
//   vlsm_pacs_end_to_end_latency_seconds          histogram: last instance of a
//       series received -> its SEG accepted by every destination
//   vlsm_pacs_spool_series                        gauge: series waiting in the spool
//
// Labels are fixed words; no identifier ever becomes a label.
// Threading: every method is thread-safe.
// Errors: StartBridgeMetrics returns Unavailable when the port cannot be bound.
#ifndef VLSM_CLIENT_PACS_METRICS_H_
#define VLSM_CLIENT_PACS_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

class BridgeMetrics {
 public:
  virtual ~BridgeMetrics() = default;
  virtual void InstanceReceived(absl::string_view outcome) = 0;
  virtual void SeriesProcessed(absl::string_view outcome) = 0;
  virtual void SegDelivered(absl::string_view destination) = 0;
  virtual void SegDeliveryFailed(absl::string_view destination) = 0;
  virtual void EndToEndLatency(absl::Duration latency) = 0;
  virtual void SpoolSeries(size_t count) = 0;
  // The text exposition (empty for the null metrics).
  virtual std::string Render() = 0;
  // The bound port (0 when not serving).
  virtual int port() const = 0;
};

std::unique_ptr<BridgeMetrics> MakeNullBridgeMetrics();

// Prometheus metrics; bind_address "HOST:PORT" serves /metrics there, ""
// keeps the registry without serving it (tests).
absl::StatusOr<std::unique_ptr<BridgeMetrics>> StartBridgeMetrics(const std::string& bind_address);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_METRICS_H_
