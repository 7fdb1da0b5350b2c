#include "client/pacs_series_assembler.h"

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace vlsm::pacs {
namespace {

TEST(PacsSeriesAssembler, ReadyOnlyAfterTheQuietTime) {
  FakeClock clock;
  SeriesAssembler a(absl::Seconds(10));
  a.Arrived("s1", clock.Now());
  clock.Advance(absl::Seconds(6));
  a.Arrived("s1", clock.Now());  // another slice: the quiet time restarts
  clock.Advance(absl::Seconds(6));
  EXPECT_TRUE(a.TakeReady(clock.Now()).empty());
  EXPECT_EQ(a.NextDue(), clock.Now() + absl::Seconds(4));
  clock.Advance(absl::Seconds(4));
  const auto ready = a.TakeReady(clock.Now());
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].key, "s1");
  EXPECT_EQ(ready[0].attempts, 0);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_FALSE(a.NextDue().has_value());
}

TEST(PacsSeriesAssembler, OldestSeriesFirst) {
  FakeClock clock;
  SeriesAssembler a(absl::Seconds(1));
  a.Arrived("late", clock.Now() + absl::Seconds(1));
  a.Arrived("early", clock.Now());
  clock.Advance(absl::Seconds(5));
  const auto ready = a.TakeReady(clock.Now());
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].key, "early");
  EXPECT_EQ(ready[1].key, "late");
}

TEST(PacsSeriesAssembler, RetryWaitsAndCountsAttempts) {
  FakeClock clock;
  SeriesAssembler a(absl::Seconds(1));
  a.Arrived("s", clock.Now());
  clock.Advance(absl::Seconds(1));
  auto ready = a.TakeReady(clock.Now());
  ASSERT_EQ(ready.size(), 1u);
  a.RetryAt(ready[0], clock.Now() + absl::Seconds(30));
  clock.Advance(absl::Seconds(29));
  EXPECT_TRUE(a.TakeReady(clock.Now()).empty());
  clock.Advance(absl::Seconds(1));
  ready = a.TakeReady(clock.Now());
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].attempts, 1);
}

TEST(PacsSeriesAssembler, NewArrivalOverridesARetryTime) {
  FakeClock clock;
  SeriesAssembler a(absl::Seconds(2));
  a.Arrived("s", clock.Now());
  clock.Advance(absl::Seconds(2));
  auto ready = a.TakeReady(clock.Now());
  a.RetryAt(ready[0], clock.Now() + absl::Minutes(5));
  a.Arrived("s", clock.Now());  // more data: process after the quiet time
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(a.TakeReady(clock.Now()).size(), 1u);
}

TEST(PacsSeriesAssembler, ArrivalDuringProcessingKeepsBothRules) {
  FakeClock clock;
  SeriesAssembler a(absl::Seconds(2));
  a.Arrived("s", clock.Now());
  clock.Advance(absl::Seconds(2));
  auto ready = a.TakeReady(clock.Now());
  a.Arrived("s", clock.Now());  // while the series is being processed
  a.RetryAt(ready[0], clock.Now() + absl::Seconds(10));
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(a.TakeReady(clock.Now()).empty());
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(a.TakeReady(clock.Now()).size(), 1u);
}

}  // namespace
}  // namespace vlsm::pacs
