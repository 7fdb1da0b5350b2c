#include "client/pacs_metrics.h"

#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/metrics_http.h"

namespace vlsm::pacs {
namespace {

class NullBridgeMetrics : public BridgeMetrics {
 public:
  void InstanceReceived(absl::string_view) override {}
  void SeriesProcessed(absl::string_view) override {}
  void SegDelivered(absl::string_view) override {}
  void SegDeliveryFailed(absl::string_view) override {}
  void EndToEndLatency(absl::Duration) override {}
  void SpoolSeries(size_t) override {}
  std::string Render() override { return ""; }
  int port() const override { return 0; }
};

class PrometheusBridgeMetrics : public BridgeMetrics {
 public:
  PrometheusBridgeMetrics()
      : registry_(std::make_shared<prometheus::Registry>()),
        instances_(prometheus::BuildCounter()
                       .Name("vlsm_pacs_instances_received_total")
                       .Help("DICOM instances received over C-STORE, by outcome")
                       .Register(*registry_)),
        series_(prometheus::BuildCounter()
                    .Name("vlsm_pacs_series_processed_total")
                    .Help("Series taken from the spool, by outcome")
                    .Register(*registry_)),
        delivered_(prometheus::BuildCounter()
                       .Name("vlsm_pacs_segs_delivered_total")
                       .Help("DICOM SEG objects accepted by a destination")
                       .Register(*registry_)),
        failed_(prometheus::BuildCounter()
                    .Name("vlsm_pacs_seg_delivery_failures_total")
                    .Help("Failed SEG delivery attempts (each is retried with backoff)")
                    .Register(*registry_)),
        latency_(prometheus::BuildHistogram()
                     .Name("vlsm_pacs_end_to_end_latency_seconds")
                     .Help("Last instance of a series received -> its SEGs delivered")
                     .Register(*registry_)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 20, 30, 60,
                                                                      120, 300, 600})),
        spool_(prometheus::BuildGauge()
                   .Name("vlsm_pacs_spool_series")
                   .Help("Series waiting in the spool")
                   .Register(*registry_)
                   .Add({})) {
    // Create the fixed label values up front so every series exists at 0.
    for (const char* o : {"stored", "duplicate", "rejected"}) instances_.Add({{"outcome", o}});
    for (const char* o : {"segmented", "unrouted", "failed", "retry"})
      series_.Add({{"outcome", o}});
  }

  void InstanceReceived(absl::string_view outcome) override {
    instances_.Add({{"outcome", std::string(outcome)}}).Increment();
  }
  void SeriesProcessed(absl::string_view outcome) override {
    series_.Add({{"outcome", std::string(outcome)}}).Increment();
  }
  void SegDelivered(absl::string_view destination) override {
    delivered_.Add({{"destination", std::string(destination)}}).Increment();
  }
  void SegDeliveryFailed(absl::string_view destination) override {
    failed_.Add({{"destination", std::string(destination)}}).Increment();
  }
  void EndToEndLatency(absl::Duration latency) override {
    latency_.Observe(absl::ToDoubleSeconds(latency));
  }
  void SpoolSeries(size_t count) override { spool_.Set(static_cast<double>(count)); }
  std::string Render() override {
    try {
      return prometheus::TextSerializer().Serialize(registry_->Collect());
    } catch (const std::exception& e) {
      return absl::StrCat("# serialization failed: ", e.what(), "\n");
    }
  }
  int port() const override { return http_ ? http_->port() : 0; }

  absl::Status Serve(const std::string& bind_address) {
    auto http = vlsm::MetricsHttpServer::Start(bind_address, [this] { return Render(); });
    if (!http.ok()) return http.status();
    http_ = *std::move(http);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& instances_;
  prometheus::Family<prometheus::Counter>& series_;
  prometheus::Family<prometheus::Counter>& delivered_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Histogram& latency_;
  prometheus::Gauge& spool_;
  std::unique_ptr<vlsm::MetricsHttpServer> http_;  // last: stops before the registry goes
};

}  // namespace

std::unique_ptr<BridgeMetrics> MakeNullBridgeMetrics() {
  return std::make_unique<NullBridgeMetrics>();
}

absl::StatusOr<std::unique_ptr<BridgeMetrics>> StartBridgeMetrics(const std::string& bind_address) {
  try {
    auto metrics = std::make_unique<PrometheusBridgeMetrics>();
    if (!bind_address.empty()) {
      if (absl::Status s = metrics->Serve(bind_address); !s.ok()) return s;
    }
    return std::unique_ptr<BridgeMetrics>(std::move(metrics));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("metrics: ", e.what()));
  }
}

}  // namespace vlsm::pacs
