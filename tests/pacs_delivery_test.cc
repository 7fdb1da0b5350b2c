#include "client/pacs_delivery.h"

#include <unistd.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_seg_transport.h"

namespace vlsm::pacs {
namespace {

namespace fs = std::filesystem;

class PacsDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/pacs_delivery_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    spool_ = *Spool::Open(root_);
    metrics_ = *StartBridgeMetrics("");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string root_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<BridgeMetrics> metrics_;
  FakeClock clock_;
  BackoffPolicy policy_{absl::Seconds(2), absl::Seconds(20), 2.0};
};

TEST(PacsBackoffPolicy, DoublesUpToTheCap) {
  const BackoffPolicy p{absl::Seconds(2), absl::Seconds(20), 2.0};
  EXPECT_EQ(p.Delay(0), absl::ZeroDuration());
  EXPECT_EQ(p.Delay(1), absl::Seconds(2));
  EXPECT_EQ(p.Delay(2), absl::Seconds(4));
  EXPECT_EQ(p.Delay(3), absl::Seconds(8));
  EXPECT_EQ(p.Delay(4), absl::Seconds(16));
  EXPECT_EQ(p.Delay(5), absl::Seconds(20));
  EXPECT_EQ(p.Delay(500), absl::Seconds(20));
}

TEST_F(PacsDeliveryTest, RetriesWithBackoffUntilTheDestinationIsBack) {
  FakeSegTransport dicom("dicom", /*failures=*/3);
  DeliveryQueue q(spool_.get(), {&dicom}, policy_, &clock_, metrics_.get());
  ASSERT_TRUE(spool_->WriteOutbox("w.p0.dcm", "SEG-BYTES").ok());
  const absl::Time received = clock_.Now();
  q.Enqueue("w.p0.dcm", received);

  EXPECT_EQ(q.RunDue(), 0);  // t=0: attempt 1 fails
  EXPECT_EQ(dicom.attempts.size(), 1u);
  EXPECT_EQ(q.NextDue(), clock_.Now() + absl::Seconds(2));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(q.RunDue(), 0);  // not due yet: no attempt
  EXPECT_EQ(dicom.attempts.size(), 1u);
  clock_.Advance(absl::Seconds(1));  // t=2: attempt 2 fails, next wait 4 s
  EXPECT_EQ(q.RunDue(), 0);
  EXPECT_EQ(dicom.attempts.size(), 2u);
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(q.RunDue(), 0);
  EXPECT_EQ(dicom.attempts.size(), 2u);
  clock_.Advance(absl::Seconds(1));  // t=6: attempt 3 fails, next wait 8 s
  EXPECT_EQ(q.RunDue(), 0);
  clock_.Advance(absl::Seconds(8));  // t=14: delivered
  EXPECT_EQ(q.RunDue(), 1);
  ASSERT_EQ(dicom.attempts.size(), 4u);
  for (const std::string& a : dicom.attempts) EXPECT_EQ(a, "SEG-BYTES");  // same instance
  EXPECT_EQ(dicom.accepted.size(), 1u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(spool_->OutboxHas("w.p0.dcm"));
  EXPECT_TRUE(spool_->IsDelivered("w.p0.dcm", "dicom"));

  const std::string text = metrics_->Render();
  EXPECT_NE(text.find("vlsm_pacs_seg_delivery_failures_total{destination=\"dicom\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("vlsm_pacs_segs_delivered_total{destination=\"dicom\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("vlsm_pacs_end_to_end_latency_seconds_sum 14"), std::string::npos) << text;
}

TEST_F(PacsDeliveryTest, ADestinationThatHasItIsNotSentAgain) {
  FakeSegTransport dicom("dicom");
  FakeSegTransport stow("stow", /*failures=*/2);
  DeliveryQueue q(spool_.get(), {&dicom, &stow}, policy_, &clock_, metrics_.get());
  ASSERT_TRUE(spool_->WriteOutbox("w.p0.dcm", "SEG").ok());
  q.Enqueue("w.p0.dcm", clock_.Now());
  EXPECT_EQ(q.RunDue(), 0);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(q.RunDue(), 0);
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(q.RunDue(), 1);
  EXPECT_EQ(dicom.attempts.size(), 1u);
  EXPECT_EQ(stow.attempts.size(), 3u);
  EXPECT_EQ(stow.accepted.size(), 1u);
}

TEST_F(PacsDeliveryTest, ResumesFromTheSpoolAfterARestart) {
  ASSERT_TRUE(spool_->WriteOutbox("w.p0.dcm", "SEG-0").ok());
  ASSERT_TRUE(spool_->WriteOutbox("w.p1.dcm", "SEG-1").ok());
  {
    FakeSegTransport dicom("dicom");
    FakeSegTransport stow("stow", /*failures=*/100);
    DeliveryQueue q(spool_.get(), {&dicom, &stow}, policy_, &clock_, metrics_.get());
    q.EnqueueSpooled();
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.RunDue(), 0);
    EXPECT_EQ(dicom.accepted.size(), 2u);
  }  // the bridge stops with both SEGs owed to "stow"
  spool_ = *Spool::Open(root_);
  FakeSegTransport dicom("dicom");
  FakeSegTransport stow("stow");
  DeliveryQueue q(spool_.get(), {&dicom, &stow}, policy_, &clock_, metrics_.get());
  q.EnqueueSpooled();
  EXPECT_EQ(q.RunDue(), 2);
  EXPECT_TRUE(dicom.attempts.empty());  // journaled as delivered before the restart
  ASSERT_EQ(stow.accepted.size(), 2u);
  EXPECT_EQ(stow.accepted[0], "SEG-0");
  EXPECT_EQ(stow.accepted[1], "SEG-1");
  EXPECT_TRUE(spool_->ScanOutbox().empty());
}

TEST_F(PacsDeliveryTest, AnEntryRemovedByAnOperatorIsDropped) {
  FakeSegTransport dicom("dicom");
  DeliveryQueue q(spool_.get(), {&dicom}, policy_, &clock_, metrics_.get());
  q.Enqueue("gone.p0.dcm", clock_.Now());
  EXPECT_EQ(q.RunDue(), 0);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(dicom.attempts.empty());
}

}  // namespace
}  // namespace vlsm::pacs
