// A ServerMetrics that remembers what it was told (tests of the labels and
// gauges the server reports). Thread-safe: the server calls it from RPC,
// pool and batcher threads.
#ifndef VLSM_TESTS_FAKES_RECORDING_METRICS_H_
#define VLSM_TESTS_FAKES_RECORDING_METRICS_H_

#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/metrics.h"

namespace vlsm::test_support {

class RecordingMetrics final : public ServerMetrics {
 public:
  struct Request {
    std::string rpc;
    absl::StatusCode code;
    std::string task;
  };

  void RecordRequest(absl::string_view rpc, absl::StatusCode code,
                     absl::string_view task) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back({std::string(rpc), code, std::string(task)});
  }
  void ObserveLatency(absl::string_view, double) override {}
  void ObserveBatch(int, int) override {}
  void SetQueueDepth(int) override {}
  void SetInFlight(int) override {}
  void SetAdapters(int, int64_t) override {}
  void SetResidentAdapters(int resident, int64_t bytes) override {
    absl::MutexLock lock(&mu_);
    resident_ = resident;
    resident_bytes_ = bytes;
  }
  void SetConditionCache(uint64_t, uint64_t) override {}
  void ObserveMask(absl::string_view, bool) override {}

  std::vector<Request> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // The last SetResidentAdapters: {versions, bytes}; {-1, -1} before any.
  std::pair<int, int64_t> resident() const {
    absl::MutexLock lock(&mu_);
    return {resident_, resident_bytes_};
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  int resident_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t resident_bytes_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_FAKES_RECORDING_METRICS_H_
