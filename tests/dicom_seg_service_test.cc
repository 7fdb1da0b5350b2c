// mask_encoding = DICOM_SEG through a real in-process vlsm-server (tiny
// model): Segment and SegmentStream answer a DICOM input with one SEG per
// prompt, read back with DCMTK; non-DICOM input is INVALID_ARGUMENT.
#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/image_decode.h"
#include "server/server_builder.h"
#include "tests/support/cases.h"
#include "tests/support/dicom_series.h"
#include "tests/support/seg_readback.h"
#include "tests/support/server_fixture.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {
namespace {

using test_support::LoadSeg;
using test_support::ParsePart10;
using test_support::ReadBack;
using test_support::ReadFileBytes;
using test_support::SegData;
using test_support::Str;

class DicomSegServiceTest : public test_support::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    server_ = Start(Options());
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SegmentationService::NewStub(channel_);
    ct_ = ReadFileBytes(SegData("CT_small.dcm"));
  }

  v1::SegmentRequest Request(const std::string& image, v1::MaskEncoding encoding,
                             const std::string& task = "") {
    v1::SegmentRequest r;
    r.mutable_image()->set_encoded(image);
    r.add_prompts("liver");
    r.add_prompts("bone");
    r.set_task(task);
    r.mutable_options()->set_mask_encoding(encoding);
    return r;
  }

  grpc::Status Segment(const v1::SegmentRequest& request, std::vector<v1::SegmentResponse>* out) {
    grpc::ClientContext ctx;
    auto reader = stub_->Segment(&ctx, request);
    v1::SegmentResponse r;
    while (reader->Read(&r)) out->push_back(r);
    return reader->Finish();
  }

  // The 0/1 masks of `request` with PNG encoding, by prompt index.
  std::vector<std::vector<uint8_t>> PngMasks(v1::SegmentRequest request) {
    request.mutable_options()->set_mask_encoding(v1::PNG);
    std::vector<v1::SegmentResponse> got;
    EXPECT_TRUE(Segment(request, &got).ok());
    std::vector<std::vector<uint8_t>> out(got.size());
    for (const v1::SegmentResponse& r : got) {
      auto png = DecodeImage(r.mask().data(), DecodeLimits());
      EXPECT_TRUE(png.ok()) << png.status();
      if (!png.ok()) continue;
      for (float v : png->pixels) out[r.prompt_index()].push_back(v > 0 ? 1 : 0);
    }
    return out;
  }

  // Checks one DICOM_SEG response against the CT source and the PNG mask.
  void ExpectSeg(const v1::SegmentResponse& r, const std::vector<uint8_t>& png_mask,
                 const std::string& algorithm_name) {
    EXPECT_EQ(r.mask().encoding(), v1::DICOM_SEG);
    // The tiny model's masks are partial (about 10k of 16k pixels), so the
    // pixel comparison below means something.
    EXPECT_GT(r.mask().foreground_pixels(), 0u);
    EXPECT_LT(r.mask().foreground_pixels(), 128u * 128u);
    EXPECT_EQ(r.mask().height(), 128u);
    EXPECT_EQ(r.mask().width(), 128u);
    ReadBack p = LoadSeg(r.mask().data());
    ASSERT_TRUE(p.seg) << "the SEG does not load with DCMTK";
    std::unique_ptr<DcmFileFormat> src = ParsePart10(ct_);
    DcmDataset& ds = p.ds();
    EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_SegmentationStorage);
    EXPECT_EQ(Str(ds, DCM_StudyInstanceUID), Str(*src->getDataset(), DCM_StudyInstanceUID));
    EXPECT_EQ(Str(ds, DCM_FrameOfReferenceUID), Str(*src->getDataset(), DCM_FrameOfReferenceUID));
    ASSERT_EQ(p.seg->getNumberOfSegments(), 1u);
    ASSERT_EQ(p.seg->getNumberOfFrames(), 1u);
    DcmSegment* segment = p.seg->getSegment(1);
    OFString v;
    segment->getSegmentLabel(v);
    EXPECT_EQ(v, r.prompt());
    EXPECT_EQ(segment->getSegmentAlgorithmType(), DcmSegTypes::SAT_AUTOMATIC);
    segment->getSegmentAlgorithmName(v);
    EXPECT_EQ(v, algorithm_name);
    segment->getSegmentationAlgorithmIdentification().getAlgorithmVersion(v);
    const std::string fingerprint = server_->pipeline().engine().fingerprint();
    EXPECT_NE(std::string(v.c_str()).find(fingerprint.substr(0, 7 + 16)), std::string::npos)
        << v << " vs " << fingerprint;

    // References the input's SOP Instance UID (series and frame).
    const std::string source_uid = Str(*src->getDataset(), DCM_SOPInstanceUID);
    std::string series_uid;
    EXPECT_EQ(p.ReferencedInstances(&series_uid), std::vector<std::string>{source_uid});
    EXPECT_EQ(series_uid, Str(*src->getDataset(), DCM_SeriesInstanceUID));
    EXPECT_EQ(p.SourceOf(0), source_uid);
    EXPECT_EQ(p.Frame(0), png_mask);
    EXPECT_EQ(r.mask().foreground_pixels(),
              static_cast<uint64_t>(std::count(png_mask.begin(), png_mask.end(), 1)));
  }

  std::unique_ptr<VlsmServer> server_;
  std::unique_ptr<v1::SegmentationService::Stub> stub_;
  std::string ct_;
};

TEST_F(DicomSegServiceTest, SegmentReturnsOneSegPerPromptMatchingThePngMask) {
  const v1::SegmentRequest request = Request(ct_, v1::DICOM_SEG);
  const auto png = PngMasks(request);
  ASSERT_EQ(png.size(), 2u);
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(request, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  for (const v1::SegmentResponse& r : got) {
    SCOPED_TRACE(r.prompt());
    ExpectSeg(r, png[r.prompt_index()], "vlsm-serve CLIPSeg (base model)");
  }
}

TEST_F(DicomSegServiceTest, ProvenanceNamesTheAdapterVersion) {
  auto added = server_->registry().Add(
      "polyp",
      ReadFileBytes(test_support::TestData("clipseg-tiny/adapters/shallow_vl.safetensors")),
      AddOptions{});
  ASSERT_TRUE(added.ok()) << added.status();
  const v1::SegmentRequest request = Request(ct_, v1::DICOM_SEG, "polyp");
  const auto png = PngMasks(request);
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(request, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  const std::string name = "vlsm-serve CLIPSeg + polyp@" + std::to_string((*added)->version);
  for (const v1::SegmentResponse& r : got) ExpectSeg(r, png[r.prompt_index()], name);
  ReadBack p = LoadSeg(got[0].mask().data());
  ASSERT_TRUE(p.seg);
  OFString version;
  p.seg->getSegment(1)->getSegmentationAlgorithmIdentification().getAlgorithmVersion(version);
  EXPECT_NE(std::string(version.c_str()).find("adapter sha256:" + (*added)->sha256.substr(0, 16)),
            std::string::npos)
      << version;
}

TEST_F(DicomSegServiceTest, SegmentStreamReturnsSegs) {
  v1::SegmentRequest request = Request(ct_, v1::DICOM_SEG);
  request.set_prompts(1, "l\xc3\xa9sion osseuse");  // UTF-8 labels reach the SEG as is
  const auto png = PngMasks(request);
  request.set_request_id("slice-1");
  grpc::ClientContext ctx;
  auto stream = stub_->SegmentStream(&ctx);
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  std::vector<v1::SegmentResponse> got;
  v1::SegmentResponse r;
  while (stream->Read(&r)) got.push_back(r);
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  for (const v1::SegmentResponse& one : got) {
    EXPECT_EQ(one.request_id(), "slice-1");
    ExpectSeg(one, png[one.prompt_index()], "vlsm-serve CLIPSeg (base model)");
  }
}

TEST_F(DicomSegServiceTest, MultiFrameInputReferencesTheRequestedFrame) {
  // RT Dose, 15 frames of 10x10: the SEG of frame 3 names Referenced Frame 4
  // and sits at that frame's plane (Grid Frame Offset Vector: 0, 5, 10, ...).
  v1::SegmentRequest request = Request(ReadFileBytes(SegData("rtdose.dcm")), v1::DICOM_SEG);
  request.mutable_image()->set_frame(3);
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(request, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  ReadBack p = LoadSeg(got[0].mask().data());
  ASSERT_TRUE(p.seg);
  auto* derivation = static_cast<FGDerivationImage*>(
      p.seg->getFunctionalGroups().get(0, DcmFGTypes::EFG_DERIVATIONIMAGE));
  ASSERT_NE(derivation, nullptr);
  OFVector<Uint16> frames;
  derivation->getDerivationImageItems()[0]
      ->getSourceImageItems()[0]
      ->getImageSOPInstanceReference()
      .getReferencedFrameNumber(frames);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], 4);
  const std::optional<std::array<double, 3>> position = p.PositionOf(0);
  ASSERT_TRUE(position.has_value());
  EXPECT_NEAR((*position)[2], -761.87 + 15, 1e-6);
}

TEST_F(DicomSegServiceTest, NonDicomInputIsInvalidArgument) {
  const std::string png =
      ReadFileBytes(test_support::TestData("clipseg-tiny/images/img0_rgb_200x150.png"));
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(Request(png, v1::DICOM_SEG), &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("DICOM_SEG needs a DICOM image"), std::string::npos)
      << s.error_message();
  EXPECT_TRUE(got.empty());

  v1::SegmentRequest raw = Request("", v1::DICOM_SEG);
  raw.mutable_image()->mutable_raw()->set_height(2);
  raw.mutable_image()->mutable_raw()->set_width(2);
  raw.mutable_image()->mutable_raw()->set_channels(1);
  raw.mutable_image()->mutable_raw()->set_type(v1::UINT8);
  raw.mutable_image()->mutable_raw()->set_data(std::string(4, '\x10'));
  s = Segment(raw, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("raw pixels"), std::string::npos) << s.error_message();

  v1::SegmentRequest model_size = Request(ct_, v1::DICOM_SEG);
  model_size.mutable_options()->set_model_size(true);
  s = Segment(model_size, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("model_size"), std::string::npos) << s.error_message();
  EXPECT_TRUE(got.empty());

  // The server still serves DICOM_SEG afterwards.
  got.clear();
  ASSERT_TRUE(Segment(Request(ct_, v1::DICOM_SEG), &got).ok());
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(DicomSegServiceTest, DicomWithoutUidsIsInvalidArgument) {
  // Decodes fine, but a SEG cannot reference an instance without its UIDs.
  const std::string no_series = test_support::WithAttribute(ct_, DCM_SeriesInstanceUID, "");
  ASSERT_FALSE(no_series.empty());
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(Request(no_series, v1::DICOM_SEG), &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("Series Instance UID"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace vlsm
