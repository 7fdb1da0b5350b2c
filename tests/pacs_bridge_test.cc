// SeriesProcessor: spool -> route -> ordered slices -> (fake) service -> SEGs
// built by model/dicom_seg -> outbox -> (fake) destination.
#include "client/pacs_bridge.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "absl/synchronization/notification.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_seg_transport.h"
#include "tests/fakes/fake_slice_segmenter.h"
#include "tests/support/pacs_fixtures.h"

namespace vlsm::pacs {
namespace {

namespace fs = std::filesystem;

constexpr char kRules[] = R"({"rules": [
  {"name": "ct", "match": {"modality": "CT"}, "task": "liver@stable",
   "prompts": ["liver", "spleen"]}]})";
constexpr char kSeries[] = "1.2.826.0.1.3680043.2.1125.900.1";

class PacsProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/pacs_bridge_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    spool_ = *Spool::Open(root_);
    router_ = *Router::Create(kRules);
    metrics_ = *StartBridgeMetrics("");
    delivery_ = std::make_unique<DeliveryQueue>(spool_.get(), std::vector<SegTransport*>{&dest_},
                                                BackoffPolicy{}, &clock_, metrics_.get());
    ProcessorOptions options;
    options.base_model_name = "CLIPSeg tiny";
    processor_ = std::make_unique<SeriesProcessor>(spool_.get(), router_.get(), &segmenter_,
                                                   delivery_.get(), options);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Three slices stored out of order, instance numbers reversed.
  void StoreCtSeries() {
    for (int index : {2, 0, 1}) {
      const std::string bytes = test::CtSlice(kSeries, index, 10 - index);
      ASSERT_TRUE(
          spool_->StoreInstance(bytes, kSeries, absl::StrCat(kSeries, ".", index + 1)).ok());
    }
  }

  std::string root_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<BridgeMetrics> metrics_;
  FakeClock clock_;
  FakeSegTransport dest_{"dicom"};
  FakeSliceSegmenter segmenter_;
  std::unique_ptr<DeliveryQueue> delivery_;
  std::unique_ptr<SeriesProcessor> processor_;
};

double SliceZ(const std::string& part10) {
  DcmInputBufferStream in;
  in.setBuffer(part10.data(), part10.size());
  in.setEos();
  DcmFileFormat ff;
  ff.transferInit();
  ff.read(in);
  ff.transferEnd();
  Float64 z = 0;
  ff.getDataset()->findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
  return z;
}

TEST_F(PacsProcessorTest, SegmentsASeriesIntoOneSegPerPrompt) {
  StoreCtSeries();
  const auto ready = spool_->ScanIncoming();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(processor_->Process(ready[0].key, clock_.Now()), SeriesProcessor::Outcome::kSegmented);

  // The service saw the slices along the normal (z ascending).
  ASSERT_EQ(segmenter_.seen.size(), 3u);
  EXPECT_LT(SliceZ(segmenter_.seen[0]), SliceZ(segmenter_.seen[1]));
  EXPECT_LT(SliceZ(segmenter_.seen[1]), SliceZ(segmenter_.seen[2]));
  EXPECT_TRUE(spool_->ScanIncoming().empty());
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(spool_->IsProcessed(absl::StrCat(kSeries, ".", i)));

  EXPECT_EQ(delivery_->RunDue(), 2);
  ASSERT_EQ(dest_.accepted.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    DcmInputBufferStream in;
    in.setBuffer(dest_.accepted[k].data(), dest_.accepted[k].size());
    in.setEos();
    DcmFileFormat ff;
    ff.transferInit();
    ASSERT_TRUE(ff.read(in).good());
    ff.transferEnd();
    DcmDataset& ds = *ff.getDataset();
    OFString value;
    ASSERT_TRUE(ds.findAndGetOFString(DCM_SOPClassUID, value).good());
    EXPECT_EQ(value, UID_SegmentationStorage);
    ASSERT_TRUE(ds.findAndGetOFString(DCM_NumberOfFrames, value).good());
    EXPECT_EQ(value, "3");  // empty frames kept by default
    ASSERT_TRUE(ds.findAndGetOFString(DCM_SegmentLabel, value, 0, OFTrue).good());
    EXPECT_EQ(value, k == 0 ? "liver" : "spleen");
    ASSERT_TRUE(ds.findAndGetOFString(DCM_SegmentAlgorithmName, value, 0, OFTrue).good());
    EXPECT_EQ(value, "CLIPSeg tiny + liver@3");
    ASSERT_TRUE(ds.findAndGetOFString(DCM_SeriesInstanceUID, value, 0, OFTrue).good());
    DcmItem* referenced = nullptr;
    ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ReferencedSeriesSequence, referenced, 0).good());
    ASSERT_TRUE(referenced->findAndGetOFString(DCM_SeriesInstanceUID, value).good());
    EXPECT_EQ(value, kSeries);
    // Frame i sits on slice i of the sorted series.
    for (int frame = 0; frame < 3; ++frame) {
      DcmItem* per_frame = nullptr;
      ASSERT_TRUE(
          ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, per_frame, frame).good());
      DcmItem* plane = nullptr;
      ASSERT_TRUE(per_frame->findAndGetSequenceItem(DCM_PlanePositionSequence, plane, 0).good());
      Float64 z = 0;
      ASSERT_TRUE(plane->findAndGetFloat64(DCM_ImagePositionPatient, z, 2).good());
      EXPECT_NEAR(z, -75.0 + 2.5 * frame, 1e-3);
    }
  }
  EXPECT_TRUE(spool_->ScanOutbox().empty());
}

TEST_F(PacsProcessorTest, UnroutedSeriesIsSkippedAndForgotten) {
  const std::string mr = test::ReadFileBytes(test::PacsData("MR_small.dcm"));
  ASSERT_TRUE(spool_->StoreInstance(mr, "1.3.mr", "1.3.mr.1").ok());
  EXPECT_EQ(processor_->Process(Spool::SeriesKey("1.3.mr"), clock_.Now()),
            SeriesProcessor::Outcome::kUnrouted);
  EXPECT_EQ(segmenter_.calls, 0);
  EXPECT_TRUE(spool_->ScanIncoming().empty());
  EXPECT_TRUE(spool_->ScanOutbox().empty());
}

TEST_F(PacsProcessorTest, ServiceDownKeepsTheSeriesForARetry) {
  StoreCtSeries();
  const std::string key = Spool::SeriesKey(kSeries);
  segmenter_.status = absl::UnavailableError("connection refused");
  EXPECT_EQ(processor_->Process(key, clock_.Now()), SeriesProcessor::Outcome::kRetry);
  EXPECT_EQ(spool_->InstancePaths(key).size(), 3u);
  EXPECT_TRUE(spool_->ScanOutbox().empty());
  segmenter_.status = absl::OkStatus();
  EXPECT_EQ(processor_->Process(key, clock_.Now()), SeriesProcessor::Outcome::kSegmented);
  EXPECT_EQ(spool_->ScanOutbox().size(), 2u);
}

TEST_F(PacsProcessorTest, RefusedImagesAreSetAside) {
  StoreCtSeries();
  const std::string key = Spool::SeriesKey(kSeries);
  segmenter_.status = absl::InvalidArgumentError("cannot decode");
  EXPECT_EQ(processor_->Process(key, clock_.Now()), SeriesProcessor::Outcome::kFailed);
  EXPECT_TRUE(spool_->ScanIncoming().empty());
  EXPECT_TRUE(fs::exists(root_ + "/failed/" + key));
}

TEST_F(PacsProcessorTest, SegsWrittenBeforeACrashAreNotRebuilt) {
  StoreCtSeries();
  std::vector<std::string> sops;
  for (int i = 1; i <= 3; ++i) sops.push_back(absl::StrCat(kSeries, ".", i));
  const std::string work = Spool::WorkKey(kSeries, sops);
  ASSERT_TRUE(spool_->WriteOutbox(work + ".p0.dcm", "SEG-0").ok());
  ASSERT_TRUE(spool_->WriteOutbox(work + ".p1.dcm", "SEG-1").ok());
  EXPECT_EQ(processor_->Process(Spool::SeriesKey(kSeries), clock_.Now()),
            SeriesProcessor::Outcome::kSegmented);
  EXPECT_EQ(segmenter_.calls, 0);
  EXPECT_EQ(delivery_->RunDue(), 2);
  EXPECT_EQ(dest_.accepted, (std::vector<std::string>{"SEG-0", "SEG-1"}));
}

// A transport that signals once it has accepted `expected` objects.
class NotifyingTransport : public SegTransport {
 public:
  explicit NotifyingTransport(int expected) : expected_(expected) {}
  const std::string& name() const override { return name_; }
  absl::Status Send(absl::string_view) override {
    if (++accepted_ == expected_) done.Notify();
    return absl::OkStatus();
  }
  absl::Notification done;

 private:
  const std::string name_ = "dicom";
  const int expected_;
  std::atomic<int> accepted_{0};
};

TEST_F(PacsProcessorTest, BridgeResumesASpooledSeriesAtStart) {
  StoreCtSeries();  // left by a previous run
  // Spool times are file mtimes (real time): the clock starts an hour later,
  // long past the quiet time.
  FakeClock clock(absl::Now() + absl::Hours(1));
  NotifyingTransport transport(2);
  DeliveryQueue delivery(spool_.get(), {&transport}, BackoffPolicy{}, &clock, metrics_.get());
  SeriesProcessor processor(spool_.get(), router_.get(), &segmenter_, &delivery, {});
  SeriesAssembler assembler(absl::Seconds(10));
  PacsBridge bridge(spool_.get(), &assembler, &processor, &delivery, BackoffPolicy{}, &clock,
                    metrics_.get());
  bridge.Start();
  // The loops run on their own threads; wait for the real outcome.
  ASSERT_TRUE(transport.done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  bridge.Stop();
  EXPECT_EQ(segmenter_.calls, 1);
  EXPECT_TRUE(spool_->ScanIncoming().empty());
}

}  // namespace
}  // namespace vlsm::pacs
