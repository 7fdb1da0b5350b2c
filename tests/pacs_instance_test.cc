#include "client/pacs_instance.h"

#include "dcmtk/dcmdata/dcuid.h"
#include "gtest/gtest.h"
#include "tests/support/pacs_fixtures.h"

namespace vlsm::pacs {
namespace {

struct Loaded {
  DcmFileFormat file;
  DcmDataset& ds() { return *file.getDataset(); }
};

std::unique_ptr<Loaded> LoadCt() {
  auto l = std::make_unique<Loaded>();
  EXPECT_TRUE(l->file.loadFile(test::PacsData("CT_small.dcm").c_str()).good());
  l->file.loadAllDataIntoMemory();
  return l;
}

std::string Get(DcmDataset& ds, const DcmTagKey& tag) {
  OFString v;
  ds.findAndGetOFString(tag, v);
  return v.c_str();
}

StoreVerdict Check(DcmDataset& ds) {
  return CheckForStore(ds, Get(ds, DCM_SOPClassUID), Get(ds, DCM_SOPInstanceUID));
}

TEST(PacsCheckForStore, AcceptsAnImage) {
  auto ct = LoadCt();
  const StoreVerdict v = Check(ct->ds());
  EXPECT_EQ(v.status, kStatusSuccess) << v.reason;
  EXPECT_EQ(v.info.modality, "CT");
  EXPECT_EQ(v.info.rows, 128);
  EXPECT_EQ(v.info.cols, 128);
  ASSERT_TRUE(v.info.geometry.position.has_value());
  EXPECT_NEAR((*v.info.geometry.position)[2], -75.699997, 1e-6);
  ASSERT_TRUE(v.info.geometry.orientation.has_value());
  EXPECT_EQ(v.info.geometry.instance_number, std::optional<long>(1));
}

TEST(PacsCheckForStore, NonImageIsDataSetMismatch) {
  auto ct = LoadCt();
  delete ct->ds().remove(DCM_PixelData);
  const StoreVerdict v = Check(ct->ds());
  EXPECT_EQ(v.status, kStatusDataSetMismatch);
  EXPECT_NE(v.reason.find("not an image"), std::string::npos);
}

TEST(PacsCheckForStore, CommandAndDataSetMustAgree) {
  auto ct = LoadCt();
  EXPECT_EQ(CheckForStore(ct->ds(), UID_MRImageStorage, Get(ct->ds(), DCM_SOPInstanceUID)).status,
            kStatusDataSetMismatch);
  EXPECT_EQ(CheckForStore(ct->ds(), UID_CTImageStorage, "1.2.3.4").status, kStatusDataSetMismatch);
}

TEST(PacsCheckForStore, MissingSeriesUidCannotBeUnderstood) {
  auto ct = LoadCt();
  delete ct->ds().remove(DCM_SeriesInstanceUID);
  EXPECT_EQ(Check(ct->ds()).status, kStatusCannotUnderstand);
}

TEST(PacsCheckForStore, ShortPixelDataIsCorrupt) {
  auto ct = LoadCt();
  std::vector<Uint16> half(64 * 128, 0);
  ASSERT_TRUE(ct->ds().putAndInsertUint16Array(DCM_PixelData, half.data(), half.size()).good());
  const StoreVerdict v = Check(ct->ds());
  EXPECT_EQ(v.status, kStatusCannotUnderstand);
  EXPECT_NE(v.reason.find("Pixel Data"), std::string::npos);
  // The reason names sizes, never identifiers.
  EXPECT_EQ(v.reason.find(Get(ct->ds(), DCM_SOPInstanceUID)), std::string::npos);
}

TEST(PacsCheckForStore, MultiFrameIsRefused) {
  auto ct = LoadCt();
  ct->ds().putAndInsertString(DCM_NumberOfFrames, "2");
  EXPECT_EQ(Check(ct->ds()).status, kStatusDataSetMismatch);
}

TEST(PacsReadInstanceFile, ReadsTheCallingAeFromTheMetaHeader) {
  auto info = ReadInstanceFile(test::PacsData("MR_small.dcm"), nullptr);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->modality, "MR");
  EXPECT_EQ(info->rows, 64);
  std::string bytes;
  ASSERT_TRUE(ReadInstanceFile(test::PacsData("MR_small.dcm"), &bytes).ok());
  EXPECT_EQ(bytes, test::ReadFileBytes(test::PacsData("MR_small.dcm")));
  EXPECT_EQ(ReadInstanceFile("/nonexistent.dcm", nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm::pacs
