#include "client/pacs_spool.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace vlsm::pacs {
namespace {

namespace fs = std::filesystem;

class PacsSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/pacs_spool_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<Spool> Open() {
    auto spool = Spool::Open(root_);
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? *std::move(spool) : nullptr;
  }
  std::string root_;
};

TEST_F(PacsSpoolTest, StoredInstancesSurviveReopen) {
  {
    auto spool = Open();
    ASSERT_EQ(*spool->StoreInstance("slice-a1", "1.2.3.A", "1.2.3.A.1"),
              Spool::StoreOutcome::kStored);
    ASSERT_EQ(*spool->StoreInstance("slice-a2", "1.2.3.A", "1.2.3.A.2"),
              Spool::StoreOutcome::kStored);
    ASSERT_EQ(*spool->StoreInstance("slice-b1", "1.2.3.B", "1.2.3.B.1"),
              Spool::StoreOutcome::kStored);
  }
  auto spool = Open();
  const auto pending = spool->ScanIncoming();
  ASSERT_EQ(pending.size(), 2u);
  const auto a = spool->InstancePaths(Spool::SeriesKey("1.2.3.A"));
  ASSERT_EQ(a.size(), 2u);
  std::ifstream in(a[0], std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(content == "slice-a1" || content == "slice-a2");
  // No identifier in any path.
  for (const auto& p : a) EXPECT_EQ(p.find("1.2.3"), std::string::npos) << p;
  for (const auto& s : pending) EXPECT_NE(s.last_received, absl::InfinitePast());
}

TEST_F(PacsSpoolTest, ProcessedInstanceIsADuplicateAfterRestart) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->StoreInstance("x", "1.9", "1.9.1").ok());
    const std::string key = Spool::SeriesKey("1.9");
    ASSERT_TRUE(spool->FinishSeries(key, {"1.9.1"}, spool->InstancePaths(key)).ok());
    EXPECT_TRUE(spool->ScanIncoming().empty());
  }
  auto spool = Open();
  EXPECT_TRUE(spool->IsProcessed("1.9.1"));
  EXPECT_FALSE(spool->IsProcessed("1.9.2"));
  EXPECT_EQ(*spool->StoreInstance("x", "1.9", "1.9.1"), Spool::StoreOutcome::kDuplicate);
  EXPECT_TRUE(spool->ScanIncoming().empty());
  EXPECT_EQ(*spool->StoreInstance("y", "1.9", "1.9.2"), Spool::StoreOutcome::kStored);
  EXPECT_EQ(spool->ScanIncoming().size(), 1u);
}

TEST_F(PacsSpoolTest, FinishSeriesKeepsAnInstanceThatArrivedMeanwhile) {
  auto spool = Open();
  ASSERT_TRUE(spool->StoreInstance("1", "1.5", "1.5.1").ok());
  const std::string key = Spool::SeriesKey("1.5");
  const auto taken = spool->InstancePaths(key);
  ASSERT_TRUE(spool->StoreInstance("2", "1.5", "1.5.2").ok());  // late slice
  ASSERT_TRUE(spool->FinishSeries(key, {"1.5.1"}, taken).ok());
  const auto left = spool->InstancePaths(key);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0], taken[0]);
  EXPECT_FALSE(spool->IsProcessed("1.5.2"));
}

TEST_F(PacsSpoolTest, TornJournalTailIsIgnoredAndAppendsStillWork) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->MarkDelivered("w.p0.dcm", "dicom").ok());
    std::ofstream(root_ + "/journal.log", std::ios::app) << "D w.p0.dcm st";  // crash mid-record
  }
  {
    auto spool = Open();
    EXPECT_TRUE(spool->IsDelivered("w.p0.dcm", "dicom"));
    EXPECT_FALSE(spool->IsDelivered("w.p0.dcm", "stow"));
    EXPECT_FALSE(spool->IsDelivered("w.p0.dcm", "st"));
    ASSERT_TRUE(spool->MarkDelivered("w.p0.dcm", "stow").ok());
  }
  auto spool = Open();
  EXPECT_TRUE(spool->IsDelivered("w.p0.dcm", "dicom"));
  EXPECT_TRUE(spool->IsDelivered("w.p0.dcm", "stow"));
}

TEST_F(PacsSpoolTest, OutboxRoundTrip) {
  auto spool = Open();
  EXPECT_FALSE(spool->OutboxHas("k.p0.dcm"));
  ASSERT_TRUE(spool->WriteOutbox("k.p0.dcm", "SEG").ok());
  EXPECT_TRUE(spool->OutboxHas("k.p0.dcm"));
  EXPECT_EQ(*spool->ReadOutbox("k.p0.dcm"), "SEG");
  ASSERT_EQ(spool->ScanOutbox().size(), 1u);
  ASSERT_TRUE(spool->RemoveOutbox("k.p0.dcm").ok());
  EXPECT_TRUE(spool->ScanOutbox().empty());
  EXPECT_EQ(spool->ReadOutbox("k.p0.dcm").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(spool->MarkDelivered("bad name", "dicom").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PacsSpoolTest, PartialWritesAreClearedOnOpen) {
  std::string partial;
  {
    auto spool = Open();
    partial = spool->NewTempPath();
    std::ofstream(partial) << "half an instance";
  }
  auto spool = Open();
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_TRUE(spool->ScanIncoming().empty());
}

TEST_F(PacsSpoolTest, QuarantineMovesTheSeriesAside) {
  auto spool = Open();
  ASSERT_TRUE(spool->StoreInstance("bad", "1.7", "1.7.1").ok());
  const std::string key = Spool::SeriesKey("1.7");
  ASSERT_TRUE(spool->QuarantineSeries(key, spool->InstancePaths(key)).ok());
  EXPECT_TRUE(spool->ScanIncoming().empty());
  EXPECT_TRUE(fs::exists(root_ + "/failed/" + key));
  EXPECT_FALSE(fs::is_empty(root_ + "/failed/" + key));
}

TEST(PacsSpoolKeys, WorkKeyIgnoresInstanceOrderButNotContent) {
  EXPECT_EQ(Spool::WorkKey("1.2", {"a", "b"}), Spool::WorkKey("1.2", {"b", "a"}));
  EXPECT_NE(Spool::WorkKey("1.2", {"a", "b"}), Spool::WorkKey("1.2", {"a"}));
  EXPECT_NE(Spool::WorkKey("1.2", {"a"}), Spool::WorkKey("1.3", {"a"}));
  EXPECT_EQ(Spool::SeriesKey("1.2").size(), 32u);
}

TEST(PacsSpoolOpen, EmptyRootIsRejected) {
  EXPECT_EQ(Spool::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm::pacs
