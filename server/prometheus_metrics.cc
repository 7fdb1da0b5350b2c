#include "server/prometheus_metrics.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/metrics_http.h"

namespace vlsm {
namespace {

constexpr absl::string_view kOther = "other";

std::vector<double> LatencyBuckets() {
  std::vector<double> buckets;
  for (double b = 0.001; b < 30.0; b *= 2) buckets.push_back(b);
  buckets.push_back(30.0);
  return buckets;
}

std::vector<double> PowersOfTwo(double max) {
  std::vector<double> buckets;
  for (double b = 1; b <= max; b *= 2) buckets.push_back(b);
  return buckets;
}

// Passes at most `max` distinct label values; later new values become
// "other". "" and "other" always pass and do not count. Thread-safe.
class LabelCap {
 public:
  explicit LabelCap(size_t max) : max_(max) {}

  std::string Canonical(absl::string_view value) {
    if (value.empty() || value == kOther) return std::string(value);
    {
      absl::ReaderMutexLock lock(&mu_);
      if (seen_.contains(value)) return std::string(value);
      if (seen_.size() >= max_) return std::string(kOther);
    }
    absl::MutexLock lock(&mu_);
    if (seen_.contains(value)) return std::string(value);
    if (seen_.size() >= max_) return std::string(kOther);
    seen_.emplace(value);
    return std::string(value);
  }

 private:
  const size_t max_;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

// Lazily created, cached children of one labelled family. The family (owned
// by the registry) must outlive the cache. Thread-safe.
template <typename T>
class ChildCache {
 public:
  ChildCache(prometheus::Family<T>& family, std::vector<std::string> names)
      : family_(family), names_(std::move(names)) {}

  // `values` are in the order of the label names; `args` go to T's
  // constructor when the child is new (histogram buckets).
  template <typename... Args>
  T& Get(const std::vector<std::string>& values, const Args&... args) {
    std::string key = absl::StrJoin(values, "\x1f");
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = children_.find(key);
      if (it != children_.end()) return *it->second;
    }
    absl::MutexLock lock(&mu_);
    auto it = children_.find(key);
    if (it != children_.end()) return *it->second;
    prometheus::Labels labels;
    for (size_t i = 0; i < names_.size(); ++i) labels[names_[i]] = values[i];
    T& child = family_.Add(labels, args...);
    children_.emplace(std::move(key), &child);
    return child;
  }

 private:
  prometheus::Family<T>& family_;
  const std::vector<std::string> names_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, T*> children_ ABSL_GUARDED_BY(mu_);
};

class PrometheusMetricsImpl final : public PrometheusMetrics {
 public:
  PrometheusMetricsImpl()
      : registry_(std::make_shared<prometheus::Registry>()),
        requests_(prometheus::BuildCounter()
                      .Name("vlsm_requests_total")
                      .Help("Finished RPCs by rpc, gRPC status code and task.")
                      .Register(*registry_),
                  {"rpc", "code", "task"}),
        latency_(prometheus::BuildHistogram()
                     .Name("vlsm_request_latency_seconds")
                     .Help("Request latency by stage (queue, compute, total).")
                     .Register(*registry_),
                 {"stage"}),
        batch_size_(prometheus::BuildHistogram()
                        .Name("vlsm_batch_size")
                        .Help("Images per engine batch.")
                        .Register(*registry_)
                        .Add({}, PowersOfTwo(64))),
        batch_rows_(prometheus::BuildHistogram()
                        .Name("vlsm_batch_rows")
                        .Help("Prompts (rows) per engine batch.")
                        .Register(*registry_)
                        .Add({}, PowersOfTwo(256))),
        queue_depth_(MakeGauge("vlsm_queue_depth", "Requests waiting to batch.")),
        in_flight_(MakeGauge("vlsm_in_flight_requests", "RPCs being served.")),
        adapters_loaded_(MakeGauge("vlsm_adapters_loaded", "Adapter versions registered.")),
        adapter_bytes_(MakeGauge("vlsm_adapter_bytes", "Bytes of registered adapter weights.")),
        adapters_resident_(MakeGauge("vlsm_adapters_resident",
                                     "Adapter versions with a copy on the serving device.")),
        adapter_resident_bytes_(MakeGauge("vlsm_adapter_resident_bytes",
                                          "Bytes of adapter weights on the serving device.")),
        cache_hits_(
            MakeCounter("vlsm_condition_cache_hits_total", "Conditional-embedding cache hits.")),
        cache_misses_(MakeCounter("vlsm_condition_cache_misses_total",
                                  "Conditional-embedding cache misses.")),
        masks_(prometheus::BuildCounter()
                   .Name("vlsm_masks_total")
                   .Help("Masks returned, by task.")
                   .Register(*registry_),
               {"task"}),
        empty_masks_(prometheus::BuildCounter()
                         .Name("vlsm_empty_masks_total")
                         .Help("Empty masks (no foreground pixel), by task.")
                         .Register(*registry_),
                     {"task"}),
        latency_buckets_(LatencyBuckets()),
        tasks_(kMaxTaskLabels),
        rpcs_(kMaxRpcLabels) {
    // Pre-create the documented stages so dashboards see zeros, not gaps.
    for (const char* stage : {"queue", "compute", "total"}) {
      latency_.Get({stage}, latency_buckets_);
    }
  }

  // Takes ownership of the running server; must be called once, before the
  // object is shared.
  void Attach(std::unique_ptr<MetricsHttpServer> http) {
    port_ = http->port();
    http_ = std::move(http);
  }

  // The exposition text of every metric (what /metrics returns).
  std::string Render() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }

  int port() const override { return port_; }

  void RecordRequest(absl::string_view rpc, absl::StatusCode code,
                     absl::string_view task) override {
    std::string code_name = absl::StatusCodeToString(code);
    if (code_name.empty()) code_name = "UNKNOWN";
    requests_.Get({rpcs_.Canonical(rpc), std::move(code_name), tasks_.Canonical(task)}).Increment();
  }

  void ObserveLatency(absl::string_view stage, double seconds) override {
    std::string label(kOther);
    if (stage == "queue" || stage == "compute" || stage == "total") {
      label = std::string(stage);
    }
    latency_.Get({label}, latency_buckets_).Observe(seconds);
  }

  void ObserveBatch(int images, int rows) override {
    batch_size_.Observe(images);
    batch_rows_.Observe(rows);
  }

  void SetQueueDepth(int depth) override { queue_depth_.Set(depth); }
  void SetInFlight(int requests) override { in_flight_.Set(requests); }

  void SetAdapters(int loaded, int64_t bytes) override {
    adapters_loaded_.Set(loaded);
    adapter_bytes_.Set(static_cast<double>(bytes));
  }
  void SetResidentAdapters(int resident, int64_t bytes) override {
    adapters_resident_.Set(resident);
    adapter_resident_bytes_.Set(static_cast<double>(bytes));
  }

  void SetConditionCache(uint64_t hits, uint64_t misses) override {
    absl::MutexLock lock(&cache_mu_);
    cache_hits_.Increment(Delta(hits, last_hits_));
    cache_misses_.Increment(Delta(misses, last_misses_));
    last_hits_ = hits;
    last_misses_ = misses;
  }

  void ObserveMask(absl::string_view task, bool empty) override {
    const std::string label = tasks_.Canonical(task);
    masks_.Get({label}).Increment();
    // Always create the empty child so the ratio is defined per task.
    prometheus::Counter& empty_masks = empty_masks_.Get({label});
    if (empty) empty_masks.Increment();
  }

 private:
  static double Delta(uint64_t now, uint64_t last) {
    // A count that went backwards was reset: it counted `now` from zero.
    return static_cast<double>(now >= last ? now - last : now);
  }

  prometheus::Gauge& MakeGauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  }
  prometheus::Counter& MakeCounter(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
  }

  // Declaration order matters: the registry outlives every child, and the
  // HTTP server (last) is destroyed first, so no scrape runs during teardown.
  std::shared_ptr<prometheus::Registry> registry_;
  ChildCache<prometheus::Counter> requests_;
  ChildCache<prometheus::Histogram> latency_;
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& batch_rows_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& adapters_loaded_;
  prometheus::Gauge& adapter_bytes_;
  prometheus::Gauge& adapters_resident_;
  prometheus::Gauge& adapter_resident_bytes_;
  prometheus::Counter& cache_hits_;
  prometheus::Counter& cache_misses_;
  ChildCache<prometheus::Counter> masks_;
  ChildCache<prometheus::Counter> empty_masks_;
  const std::vector<double> latency_buckets_;
  LabelCap tasks_;
  LabelCap rpcs_;

  absl::Mutex cache_mu_;
  uint64_t last_hits_ ABSL_GUARDED_BY(cache_mu_) = 0;
  uint64_t last_misses_ ABSL_GUARDED_BY(cache_mu_) = 0;

  int port_ = 0;
  std::unique_ptr<MetricsHttpServer> http_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PrometheusMetrics>> StartPrometheusMetrics(
    const std::string& bind_address) {
  if (bind_address.empty()) {
    return absl::InvalidArgumentError("metrics bind address is empty");
  }
  // prometheus-cpp reports failures by throwing; none escapes.
  try {
    auto metrics = std::make_unique<PrometheusMetricsImpl>();
    PrometheusMetricsImpl* raw = metrics.get();
    auto http = MetricsHttpServer::Start(bind_address, [raw] { return raw->Render(); });
    if (!http.ok()) return http.status();
    metrics->Attach(*std::move(http));
    return std::unique_ptr<PrometheusMetrics>(std::move(metrics));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve /metrics on ", bind_address, ": ", e.what()));
  }
}

}  // namespace vlsm
