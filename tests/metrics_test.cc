// ServerMetrics: the null sink and the Prometheus exporter, scraped over a
// raw loopback HTTP GET of /metrics.
#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/http_get.h"
#include "server/prometheus_metrics.h"

namespace vlsm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using test_support::HttpGet;

// The value of the exposition line `series value`, or NaN if absent.
double Value(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    double value;
    if (absl::SimpleAtod(line.substr(prefix.size()), &value)) return value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::unique_ptr<PrometheusMetrics> Start() {
  auto metrics = StartPrometheusMetrics("127.0.0.1:0");
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  if (!metrics.ok()) return nullptr;
  EXPECT_GT((*metrics)->port(), 0);
  return *std::move(metrics);
}

std::string Scrape(const PrometheusMetrics& metrics) {
  absl::StatusOr<std::string> text = HttpGet(metrics.port(), "/metrics");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(NullMetricsTest, DiscardsEverything) {
  std::unique_ptr<ServerMetrics> metrics = MakeNullMetrics();
  ASSERT_NE(metrics, nullptr);
  metrics->RecordRequest("Segment", absl::StatusCode::kOk, "polyp");
  metrics->ObserveLatency("total", 0.1);
  metrics->ObserveBatch(2, 3);
  metrics->SetQueueDepth(1);
  metrics->SetInFlight(1);
  metrics->SetAdapters(1, 10);
  metrics->SetResidentAdapters(1, 10);
  metrics->SetConditionCache(1, 2);
  metrics->ObserveMask("polyp", true);
}

TEST(PrometheusMetricsTest, ConvertsToServerMetrics) {
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics = StartPrometheusMetrics("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(*metrics, nullptr);
}

TEST(PrometheusMetricsTest, ExposesDocumentedSeries) {
  std::unique_ptr<PrometheusMetrics> metrics = Start();
  ASSERT_NE(metrics, nullptr);
  metrics->RecordRequest("Segment", absl::StatusCode::kNotFound, "polyp");
  metrics->RecordRequest("Segment", absl::StatusCode::kOk, "polyp");
  metrics->RecordRequest("Segment", absl::StatusCode::kOk, "polyp");
  metrics->RecordRequest("UploadAdapter", absl::StatusCode::kInvalidArgument, "");
  metrics->ObserveLatency("queue", 0.002);
  metrics->ObserveLatency("queue", 0.5);
  metrics->ObserveLatency("total", 40.0);
  metrics->ObserveLatency("bogus", 1.0);
  metrics->ObserveBatch(3, 5);
  metrics->ObserveBatch(1, 1);
  metrics->SetQueueDepth(7);
  metrics->SetInFlight(2);
  metrics->SetAdapters(3, 123456789);
  metrics->SetResidentAdapters(2, 4096);
  metrics->SetConditionCache(10, 4);
  metrics->SetConditionCache(15, 4);
  metrics->ObserveMask("polyp", true);
  metrics->ObserveMask("polyp", false);
  metrics->ObserveMask("skin", false);

  const std::string text = Scrape(*metrics);
  EXPECT_THAT(
      text,
      HasSubstr("vlsm_requests_total{code=\"NOT_FOUND\",rpc=\"Segment\",task=\"polyp\"} 1\n"));
  EXPECT_EQ(Value(text, "vlsm_requests_total{code=\"OK\",rpc=\"Segment\",task=\"polyp\"}"), 2);
  EXPECT_EQ(Value(text,
                  "vlsm_requests_total{code=\"INVALID_ARGUMENT\","
                  "rpc=\"UploadAdapter\",task=\"\"}"),
            1);
  EXPECT_THAT(text, HasSubstr("# TYPE vlsm_requests_total counter"));

  EXPECT_THAT(text, HasSubstr("# TYPE vlsm_request_latency_seconds histogram"));
  EXPECT_EQ(Value(text, "vlsm_request_latency_seconds_count{stage=\"queue\"}"), 2);
  EXPECT_NEAR(Value(text, "vlsm_request_latency_seconds_sum{stage=\"queue\"}"), 0.502, 1e-9);
  EXPECT_EQ(Value(text,
                  "vlsm_request_latency_seconds_bucket{stage=\"queue\","
                  "le=\"0.001\"}"),
            0);
  EXPECT_EQ(Value(text,
                  "vlsm_request_latency_seconds_bucket{stage=\"queue\","
                  "le=\"0.002\"}"),
            1);
  EXPECT_EQ(Value(text,
                  "vlsm_request_latency_seconds_bucket{stage=\"total\","
                  "le=\"30\"}"),
            0);
  EXPECT_EQ(Value(text,
                  "vlsm_request_latency_seconds_bucket{stage=\"total\","
                  "le=\"+Inf\"}"),
            1);
  // Pre-created stage, and an unknown stage folded into "other".
  EXPECT_EQ(Value(text, "vlsm_request_latency_seconds_count{stage=\"compute\"}"), 0);
  EXPECT_EQ(Value(text, "vlsm_request_latency_seconds_count{stage=\"other\"}"), 1);
  EXPECT_THAT(text, Not(HasSubstr("bogus")));

  EXPECT_EQ(Value(text, "vlsm_batch_size_count"), 2);
  EXPECT_EQ(Value(text, "vlsm_batch_size_sum"), 4);
  EXPECT_EQ(Value(text, "vlsm_batch_size_bucket{le=\"1\"}"), 1);
  EXPECT_EQ(Value(text, "vlsm_batch_size_bucket{le=\"2\"}"), 1);
  EXPECT_EQ(Value(text, "vlsm_batch_size_bucket{le=\"4\"}"), 2);
  EXPECT_EQ(Value(text, "vlsm_batch_size_bucket{le=\"64\"}"), 2);
  EXPECT_EQ(Value(text, "vlsm_batch_rows_count"), 2);
  EXPECT_EQ(Value(text, "vlsm_batch_rows_sum"), 6);
  EXPECT_EQ(Value(text, "vlsm_batch_rows_bucket{le=\"4\"}"), 1);
  EXPECT_EQ(Value(text, "vlsm_batch_rows_bucket{le=\"8\"}"), 2);

  EXPECT_EQ(Value(text, "vlsm_queue_depth"), 7);
  EXPECT_EQ(Value(text, "vlsm_in_flight_requests"), 2);
  EXPECT_EQ(Value(text, "vlsm_adapters_loaded"), 3);
  EXPECT_EQ(Value(text, "vlsm_adapter_bytes"), 123456789);
  EXPECT_EQ(Value(text, "vlsm_adapters_resident"), 2);
  EXPECT_EQ(Value(text, "vlsm_adapter_resident_bytes"), 4096);

  EXPECT_THAT(text, HasSubstr("# TYPE vlsm_condition_cache_hits_total counter"));
  EXPECT_EQ(Value(text, "vlsm_condition_cache_hits_total"), 15);
  EXPECT_EQ(Value(text, "vlsm_condition_cache_misses_total"), 4);

  EXPECT_EQ(Value(text, "vlsm_masks_total{task=\"polyp\"}"), 2);
  EXPECT_EQ(Value(text, "vlsm_empty_masks_total{task=\"polyp\"}"), 1);
  EXPECT_EQ(Value(text, "vlsm_masks_total{task=\"skin\"}"), 1);
  // Created with the mask counter, so the empty-mask ratio is 0, not absent.
  EXPECT_EQ(Value(text, "vlsm_empty_masks_total{task=\"skin\"}"), 0);
}

TEST(PrometheusMetricsTest, ConditionCacheCountsNeverGoBackwards) {
  std::unique_ptr<PrometheusMetrics> metrics = Start();
  ASSERT_NE(metrics, nullptr);
  metrics->SetConditionCache(10, 4);
  metrics->SetConditionCache(10, 4);  // No change: no increment.
  metrics->SetConditionCache(3, 6);   // Hits reset: counted from zero.
  const std::string text = Scrape(*metrics);
  EXPECT_EQ(Value(text, "vlsm_condition_cache_hits_total"), 13);
  EXPECT_EQ(Value(text, "vlsm_condition_cache_misses_total"), 6);
}

TEST(PrometheusMetricsTest, TaskLabelCapFoldsIntoOther) {
  std::unique_ptr<PrometheusMetrics> metrics = Start();
  ASSERT_NE(metrics, nullptr);
  const int cap = PrometheusMetrics::kMaxTaskLabels;
  for (int i = 0; i < cap + 44; ++i) {
    metrics->ObserveMask(absl::StrCat("task-", i), false);
  }
  metrics->ObserveMask("", true);         // Base model: never capped.
  metrics->ObserveMask("task-0", false);  // Known before the cap: kept.
  metrics->RecordRequest("Segment", absl::StatusCode::kOk,
                         absl::StrCat("task-", cap));  // Shared cap: folded.

  const std::string text = Scrape(*metrics);
  EXPECT_EQ(Value(text, "vlsm_masks_total{task=\"task-0\"}"), 2);
  EXPECT_EQ(Value(text, absl::StrCat("vlsm_masks_total{task=\"task-", cap - 1, "\"}")), 1);
  EXPECT_THAT(text, Not(HasSubstr(absl::StrCat("task=\"task-", cap, "\""))));
  EXPECT_EQ(Value(text, "vlsm_masks_total{task=\"other\"}"), 44);
  EXPECT_EQ(Value(text, "vlsm_empty_masks_total{task=\"\"}"), 1);
  EXPECT_EQ(Value(text,
                  "vlsm_requests_total{code=\"OK\",rpc=\"Segment\","
                  "task=\"other\"}"),
            1);
}

TEST(PrometheusMetricsTest, SecondServerOnSamePortIsUnavailable) {
  std::unique_ptr<PrometheusMetrics> first = Start();
  ASSERT_NE(first, nullptr);
  auto second = StartPrometheusMetrics(absl::StrCat("127.0.0.1:", first->port()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  // The first server is unaffected.
  first->SetQueueDepth(3);
  EXPECT_EQ(Value(Scrape(*first), "vlsm_queue_depth"), 3);
}

TEST(PrometheusMetricsTest, UnparsableAddressIsUnavailable) {
  EXPECT_EQ(StartPrometheusMetrics("no-such-address:x").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(PrometheusMetricsTest, EmptyAddressIsInvalid) {
  EXPECT_EQ(StartPrometheusMetrics("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrometheusMetricsTest, ConcurrentRecordingGivesExactTotals) {
  std::unique_ptr<PrometheusMetrics> metrics = Start();
  ASSERT_NE(metrics, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  constexpr int kTasks = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread races to create the same children.
        const std::string task = absl::StrCat("t", i % kTasks);
        metrics->RecordRequest("Segment", absl::StatusCode::kOk, task);
        metrics->ObserveMask(task, i % 2 == 0);
        metrics->ObserveLatency("total", 0.25);
        metrics->ObserveBatch(1, 2);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const std::string text = Scrape(*metrics);
  const double per_task = kThreads * kPerThread / kTasks;
  for (int k = 0; k < kTasks; ++k) {
    const std::string task = absl::StrCat("t", k);
    EXPECT_EQ(Value(text, absl::StrCat("vlsm_requests_total{code=\"OK\","
                                       "rpc=\"Segment\",task=\"",
                                       task, "\"}")),
              per_task)
        << task;
    EXPECT_EQ(Value(text, absl::StrCat("vlsm_masks_total{task=\"", task, "\"}")), per_task);
    EXPECT_EQ(Value(text, absl::StrCat("vlsm_empty_masks_total{task=\"", task, "\"}")),
              k % 2 == 0 ? per_task : 0);
  }
  EXPECT_EQ(Value(text, "vlsm_request_latency_seconds_count{stage=\"total\"}"),
            kThreads * kPerThread);
  EXPECT_EQ(Value(text, "vlsm_request_latency_seconds_sum{stage=\"total\"}"),
            0.25 * kThreads * kPerThread);
  EXPECT_EQ(Value(text, "vlsm_batch_rows_sum"), 2.0 * kThreads * kPerThread);
}

}  // namespace
}  // namespace vlsm
