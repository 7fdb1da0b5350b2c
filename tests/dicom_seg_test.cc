// BuildDicomSeg: SEGs made from pydicom's CT_small / MR_small, a 3-slice
// series synthesised from CT_small, sources without geometry, a secondary
// capture with an odd frame size and a multi-frame source, each read back with
// DCMTK's dcmseg; and every InvalidArgument case of model/dicom_seg.h.
#include "model/dicom_seg.h"

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/dicom_series.h"
#include "tests/support/seg_readback.h"

namespace vlsm {
namespace {

using test_support::LoadSeg;
using test_support::ParsePart10;
using test_support::ReadBack;
using test_support::ReadFileBytes;
using test_support::SegData;
using test_support::Str;

SegProvenance Provenance() {
  SegProvenance p;
  p.algorithm_name = "CLIPSeg clipseg-tiny + polyp@3";
  p.algorithm_version = "vlsm-serve 0.1; base sha256:abcd; adapter polyp@3";
  return p;
}

// A filled rectangle [r0,r1) x [c0,c1) of value 1 (or `value`).
std::vector<uint8_t> Box(int rows, int cols, int r0, int r1, int c0, int c1, uint8_t value = 1) {
  std::vector<uint8_t> m(rows * cols, 0);
  for (int r = r0; r < r1; ++r) {
    for (int c = c0; c < c1; ++c) m[r * cols + c] = value;
  }
  return m;
}

TEST(DicomSegTest, CtSmallOneSegment) {
  const std::string ct = ReadFileBytes(SegData("CT_small.dcm"));
  std::unique_ptr<DcmFileFormat> src = ParsePart10(ct);
  ASSERT_TRUE(src);
  const std::vector<uint8_t> mask = Box(128, 128, 10, 50, 20, 90);
  auto seg = BuildDicomSeg(std::vector<std::string_view>{ct}, {{"liver", {mask}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  DcmDataset& ds = r.ds();
  EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_SegmentationStorage);
  EXPECT_EQ(Str(ds, DCM_Modality), "SEG");
  EXPECT_EQ(Str(ds, DCM_SegmentationType), "BINARY");
  EXPECT_EQ(Str(ds, DCM_StudyInstanceUID), Str(*src->getDataset(), DCM_StudyInstanceUID));
  EXPECT_EQ(Str(ds, DCM_PatientID), Str(*src->getDataset(), DCM_PatientID));
  EXPECT_EQ(Str(ds, DCM_SpecificCharacterSet), "ISO_IR 192");
  EXPECT_NE(Str(ds, DCM_SeriesInstanceUID), Str(*src->getDataset(), DCM_SeriesInstanceUID));
  EXPECT_EQ(Str(ds, DCM_FrameOfReferenceUID), Str(*src->getDataset(), DCM_FrameOfReferenceUID));
  EXPECT_EQ(Str(ds, DCM_ContentLabel), "VLSM_SEG");
  EXPECT_EQ(Str(ds, DCM_SeriesNumber), "9001");
  EXPECT_EQ(Str(ds, DCM_Manufacturer), "vlsm-serve");

  ASSERT_EQ(r.seg->getNumberOfFrames(), 1u);
  ASSERT_EQ(r.seg->getNumberOfSegments(), 1u);
  DcmSegment* segment = r.seg->getSegment(1);
  ASSERT_NE(segment, nullptr);
  OFString s;
  segment->getSegmentLabel(s);
  EXPECT_EQ(s, "liver");
  EXPECT_EQ(segment->getSegmentAlgorithmType(), DcmSegTypes::SAT_AUTOMATIC);
  segment->getSegmentAlgorithmName(s);
  EXPECT_EQ(s, "CLIPSeg clipseg-tiny + polyp@3");
  segment->getSegmentationAlgorithmIdentification().getAlgorithmVersion(s);
  EXPECT_EQ(s, "vlsm-serve 0.1; base sha256:abcd; adapter polyp@3");
  segment->getSegmentedPropertyCategoryCode().getCodeValue(s);
  EXPECT_EQ(s, "85756007");
  segment->getSegmentedPropertyTypeCode().getCodingSchemeDesignator(s);
  EXPECT_EQ(s, "SCT");

  std::string series;
  EXPECT_EQ(r.ReferencedInstances(&series),
            std::vector<std::string>{Str(*src->getDataset(), DCM_SOPInstanceUID)});
  EXPECT_EQ(series, Str(*src->getDataset(), DCM_SeriesInstanceUID));
  EXPECT_EQ(r.SourceOf(0), Str(*src->getDataset(), DCM_SOPInstanceUID));
  auto p = r.PositionOf(0);
  ASSERT_TRUE(p);
  EXPECT_NEAR((*p)[0], -158.135803, 1e-6);
  EXPECT_NEAR((*p)[1], -179.035797, 1e-6);
  EXPECT_NEAR((*p)[2], -75.699997, 1e-6);
  EXPECT_EQ(r.SegmentOf(0), 1);
  EXPECT_EQ(r.Frame(0), mask);
}

TEST(DicomSegTest, MrSmallNonZeroMaskValuesAreInside) {
  const std::string mr = ReadFileBytes(SegData("MR_small.dcm"));
  std::vector<uint8_t> mask = Box(64, 64, 5, 30, 5, 60, 255);
  auto seg = BuildDicomSeg(std::vector<std::string_view>{mr}, {{"brain", {mask}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  for (uint8_t& v : mask) v = v ? 1 : 0;
  EXPECT_EQ(r.Frame(0), mask);
  EXPECT_EQ(r.rows, 64);
}

TEST(DicomSegTest, ThreeSliceSeriesTwoSegments) {
  const auto slices =
      test_support::SynthesizeSeries(ReadFileBytes(SegData("CT_small.dcm")), 3, 5.0);
  ASSERT_EQ(slices.size(), 3u);
  std::vector<std::string_view> sources;
  for (const auto& s : slices) sources.push_back(s.bytes);
  const std::vector<uint8_t> empty(128 * 128, 0);
  SegSegment a{"liver", {Box(128, 128, 0, 10, 0, 10), empty, Box(128, 128, 100, 128, 0, 128)}};
  SegSegment b{"spleen", {empty, Box(128, 128, 60, 61, 3, 4), empty}};
  auto seg = BuildDicomSeg(sources, {a, b}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  ASSERT_EQ(r.seg->getNumberOfFrames(), 6u);
  ASSERT_EQ(r.seg->getNumberOfSegments(), 2u);
  OFString label;
  r.seg->getSegment(2)->getSegmentLabel(label);
  EXPECT_EQ(label, "spleen");
  std::string series;
  const std::vector<std::string> refs = r.ReferencedInstances(&series);
  ASSERT_EQ(refs.size(), 3u);
  for (size_t k = 0; k < 6; ++k) {  // segment-major, then slice order
    const SegSegment& in = k < 3 ? a : b;
    const auto& slice = slices[k % 3];
    EXPECT_EQ(refs[k % 3], slice.sop_instance_uid);
    EXPECT_EQ(r.SegmentOf(k), k < 3 ? 1 : 2) << k;
    EXPECT_EQ(r.SourceOf(k), slice.sop_instance_uid) << k;
    EXPECT_EQ(r.Frame(k), in.frames[k % 3]) << k;
    auto p = r.PositionOf(k);
    ASSERT_TRUE(p) << k;
    for (int i = 0; i < 3; ++i) EXPECT_NEAR((*p)[i], slice.position[i], 1e-6) << k;
  }
  EXPECT_EQ(Str(r.ds(), DCM_FrameOfReferenceUID),
            Str(*ParsePart10(slices[0].bytes)->getDataset(), DCM_FrameOfReferenceUID));

  // omit_empty_frames drops exactly the empty frames.
  auto omitted = BuildDicomSeg(sources, {a, b}, Provenance(), SegOptions{true});
  ASSERT_TRUE(omitted.ok()) << omitted.status();
  ReadBack o = LoadSeg(*omitted);
  ASSERT_TRUE(o.seg);
  ASSERT_EQ(o.seg->getNumberOfFrames(), 3u);
  EXPECT_EQ(o.SourceOf(0), slices[0].sop_instance_uid);
  EXPECT_EQ(o.SourceOf(1), slices[2].sop_instance_uid);
  EXPECT_EQ(o.SourceOf(2), slices[1].sop_instance_uid);
  EXPECT_EQ(o.SegmentOf(2), 2);
  EXPECT_EQ(o.Frame(1), a.frames[2]);
  EXPECT_EQ(o.Frame(2), b.frames[1]);
  // The instance references still name every source.
  EXPECT_EQ(o.ReferencedInstances(&series).size(), 3u);
}

TEST(DicomSegTest, DifferingOrientationsGoPerFrame) {
  auto slices = test_support::SynthesizeSeries(ReadFileBytes(SegData("CT_small.dcm")), 2, 1.0);
  ASSERT_EQ(slices.size(), 2u);
  slices[1].bytes =
      test_support::WithAttribute(slices[1].bytes, DCM_ImageOrientationPatient, "0\\1\\0\\1\\0\\0");
  const std::vector<uint8_t> mask(128 * 128, 1);
  auto seg = BuildDicomSeg(std::vector<std::string_view>{slices[0].bytes, slices[1].bytes},
                           {{"x", {mask, mask}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  for (Uint32 k = 0; k < 2; ++k) {
    OFBool per_frame = OFFalse;
    auto* fg = static_cast<FGPlaneOrientationPatient*>(
        r.seg->getFunctionalGroups().get(k, DcmFGTypes::EFG_PLANEORIENTPATIENT, per_frame));
    ASSERT_NE(fg, nullptr);
    EXPECT_TRUE(per_frame);
    OFString first;
    fg->getImageOrientationPatient(first, 0);
    EXPECT_EQ(std::stod(first.c_str()), k == 0 ? 1.0 : 0.0);
  }
}

TEST(DicomSegTest, AllEmptySegmentKeepsItsFirstFrameWhenOmitting) {
  const auto slices =
      test_support::SynthesizeSeries(ReadFileBytes(SegData("CT_small.dcm")), 2, 2.5);
  ASSERT_EQ(slices.size(), 2u);
  const std::vector<uint8_t> empty(128 * 128, 0);
  auto seg = BuildDicomSeg(std::vector<std::string_view>{slices[0].bytes, slices[1].bytes},
                           {{"nothing", {empty, empty}}}, Provenance(), SegOptions{true});
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  ASSERT_EQ(r.seg->getNumberOfFrames(), 1u);
  EXPECT_EQ(r.SourceOf(0), slices[0].sop_instance_uid);
  EXPECT_EQ(r.Frame(0), empty);
}

TEST(DicomSegTest, SourceWithoutGeometryHasNoFrameOfReference) {
  const std::string ct =
      test_support::StripGeometry(ReadFileBytes(SegData("CT_small.dcm")), /*drop_spacing=*/true);
  ASSERT_FALSE(ct.empty());
  const std::vector<uint8_t> mask = Box(128, 128, 1, 2, 3, 4);
  auto seg = BuildDicomSeg(std::vector<std::string_view>{ct}, {{"x", {mask}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  EXPECT_FALSE(r.ds().tagExists(DCM_FrameOfReferenceUID));
  EXPECT_FALSE(r.PositionOf(0));
  EXPECT_EQ(r.Frame(0), mask);
  auto* content = static_cast<FGFrameContent*>(
      r.seg->getFunctionalGroups().get(0, DcmFGTypes::EFG_FRAMECONTENT));
  ASSERT_NE(content, nullptr);
  Uint32 position = 0;
  content->getInStackPositionNumber(position);
  EXPECT_EQ(position, 1u);
}

TEST(DicomSegTest, FrameOfReferenceWithoutPositionIsDropped) {
  // A Frame of Reference UID but no Image Position: nothing to place frames
  // with, so the SEG goes without (the derivation references suffice).
  std::string ct = ReadFileBytes(SegData("CT_small.dcm"));
  ct = test_support::WithAttribute(ct, DCM_ImagePositionPatient, "");
  auto seg = BuildDicomSeg(std::vector<std::string_view>{ct},
                           {{"x", {std::vector<uint8_t>(128 * 128, 1)}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  EXPECT_FALSE(r.ds().tagExists(DCM_FrameOfReferenceUID));
}

TEST(DicomSegTest, SecondaryCaptureOddFrameSize) {
  // 3x3 frames: 9 bits each, packed without padding between frames.
  const std::string sc = ReadFileBytes(SegData("SC_rgb_small_odd.dcm"));
  const std::vector<uint8_t> m1{1, 0, 1, 0, 1, 0, 1, 1, 1};
  const std::vector<uint8_t> m2{0, 1, 0, 1, 0, 1, 0, 0, 1};
  auto seg =
      BuildDicomSeg(std::vector<std::string_view>{sc}, {{"a", {m1}}, {"b", {m2}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  ASSERT_EQ(r.seg->getNumberOfFrames(), 2u);
  EXPECT_EQ(r.Frame(0), m1);
  EXPECT_EQ(r.Frame(1), m2);
}

TEST(DicomSegTest, MultiFrameSourceReferencesFrameNumbersAndOffsets) {
  // RT Dose: 15 frames of 10x10 (100 bits: not a multiple of 8), positions
  // from Image Position (Patient) + Grid Frame Offset Vector (0, 5, 10, ...).
  const std::string dose = ReadFileBytes(SegData("rtdose.dcm"));
  const std::vector<uint8_t> m3 = Box(10, 10, 0, 5, 0, 5);
  const std::vector<uint8_t> m0 = Box(10, 10, 5, 10, 3, 10);
  auto seg =
      BuildDicomSeg(std::vector<SegSource>{{dose, 3}, {dose, 0}}, {{"a", {m3, m0}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  ASSERT_EQ(r.seg->getNumberOfFrames(), 2u);
  EXPECT_EQ(r.Frame(0), m3);
  EXPECT_EQ(r.Frame(1), m0);
  std::string series;
  EXPECT_EQ(r.ReferencedInstances(&series).size(), 1u);  // one instance, once
  for (Uint16 k = 0; k < 2; ++k) {
    auto* fg = static_cast<FGDerivationImage*>(
        r.seg->getFunctionalGroups().get(k, DcmFGTypes::EFG_DERIVATIONIMAGE));
    ASSERT_NE(fg, nullptr);
    OFVector<Uint16> frames;
    fg->getDerivationImageItems()[0]
        ->getSourceImageItems()[0]
        ->getImageSOPInstanceReference()
        .getReferencedFrameNumber(frames);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], k == 0 ? 4 : 1);
    auto p = r.PositionOf(k);
    ASSERT_TRUE(p);
    EXPECT_NEAR((*p)[0], 189.43125, 1e-6);
    EXPECT_NEAR((*p)[1], 199.43125, 1e-6);
    EXPECT_NEAR((*p)[2], k == 0 ? -761.87 + 15 : -761.87, 1e-6);
  }
}

TEST(DicomSegTest, MultiFrameWithoutPerFramePositionsHasNoPlanes) {
  // Without the offsets only frame 0's position is known.
  const std::string dose = test_support::WithAttribute(ReadFileBytes(SegData("rtdose.dcm")),
                                                       DCM_GridFrameOffsetVector, "");
  const std::vector<uint8_t> m(100, 1);
  auto seg =
      BuildDicomSeg(std::vector<SegSource>{{dose, 0}, {dose, 1}}, {{"a", {m, m}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  EXPECT_FALSE(r.PositionOf(0));
  EXPECT_FALSE(r.ds().tagExists(DCM_FrameOfReferenceUID));
}

TEST(DicomSegTest, LongLabelIsCutAndKeptInDescription) {
  const std::string mr = ReadFileBytes(SegData("MR_small.dcm"));
  const std::string prompt = std::string(70, 'a') + "\\b";
  auto seg = BuildDicomSeg(std::vector<std::string_view>{mr},
                           {{prompt, {std::vector<uint8_t>(64 * 64, 0)}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  OFString v;
  r.seg->getSegment(1)->getSegmentLabel(v);
  EXPECT_EQ(v, std::string(64, 'a'));
  r.seg->getSegment(1)->getSegmentDescription(v);
  EXPECT_EQ(v, std::string(70, 'a') + "/b");
}

TEST(DicomSegTest, TextIsUtf8WhateverTheSourceCharacterSet) {
  // CT_small declares ISO_IR 100 (Latin-1): its names are converted.
  const std::string latin1 = test_support::WithAttribute(ReadFileBytes(SegData("CT_small.dcm")),
                                                         DCM_PatientName, "M\xfcller^J\xfcrgen");
  const std::string prompt = "l\xc3\xa9sion h\xc3\xa9patique";  // UTF-8
  auto seg = BuildDicomSeg(std::vector<std::string_view>{latin1},
                           {{prompt, {std::vector<uint8_t>(128 * 128, 0)}}}, Provenance());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  EXPECT_EQ(Str(r.ds(), DCM_SpecificCharacterSet), "ISO_IR 192");
  EXPECT_EQ(Str(r.ds(), DCM_PatientName), "M\xc3\xbcller^J\xc3\xbcrgen");
  OFString label;
  r.seg->getSegment(1)->getSegmentLabel(label);
  EXPECT_EQ(label, prompt);
}

TEST(DicomSegTest, LossySourceMakesALossySeg) {
  std::string ct = ReadFileBytes(SegData("CT_small.dcm"));
  auto plain = BuildDicomSeg(std::vector<std::string_view>{ct},
                             {{"x", {std::vector<uint8_t>(128 * 128, 0)}}}, Provenance());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Str(LoadSeg(*plain).ds(), DCM_LossyImageCompression), "00");
  ct = test_support::WithAttribute(ct, DCM_LossyImageCompression, "01");
  ct = test_support::WithAttribute(ct, DCM_LossyImageCompressionMethod, "ISO_10918_1");
  ct = test_support::WithAttribute(ct, DCM_LossyImageCompressionRatio, "8.5");
  auto lossy = BuildDicomSeg(std::vector<std::string_view>{ct},
                             {{"x", {std::vector<uint8_t>(128 * 128, 0)}}}, Provenance());
  ASSERT_TRUE(lossy.ok()) << lossy.status();
  ReadBack r = LoadSeg(*lossy);
  EXPECT_EQ(Str(r.ds(), DCM_LossyImageCompression), "01");
  EXPECT_EQ(Str(r.ds(), DCM_LossyImageCompressionMethod), "ISO_10918_1");
  EXPECT_EQ(Str(r.ds(), DCM_LossyImageCompressionRatio), "8.5");
}

TEST(DicomSegTest, NoAlgorithmVersionLeavesOutTheIdentification) {
  SegProvenance p;
  p.algorithm_name = "some model";
  auto seg = BuildDicomSeg(std::vector<std::string_view>{ReadFileBytes(SegData("MR_small.dcm"))},
                           {{"x", {std::vector<uint8_t>(64 * 64, 1)}}}, p);
  ASSERT_TRUE(seg.ok()) << seg.status();
  ReadBack r = LoadSeg(*seg);
  ASSERT_TRUE(r.seg);
  OFString name;
  r.seg->getSegment(1)->getSegmentAlgorithmName(name);
  EXPECT_EQ(name, "some model");
  DcmItem* item = nullptr;
  ASSERT_TRUE(r.ds().findAndGetSequenceItem(DCM_SegmentSequence, item, 0).good());
  EXPECT_FALSE(item->tagExists(DCM_SegmentationAlgorithmIdentificationSequence));
}

TEST(DicomSegTest, ConcurrentBuildsAreIndependent) {
  const std::string ct = ReadFileBytes(SegData("CT_small.dcm"));
  constexpr int kThreads = 4;
  std::vector<std::string> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto seg = BuildDicomSeg(std::vector<std::string_view>{ct},
                               {{"x", {Box(128, 128, t, t + 10, 0, 128)}}}, Provenance());
      if (seg.ok()) out[t] = *std::move(seg);
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> instances;
  for (int t = 0; t < kThreads; ++t) {
    ReadBack r = LoadSeg(out[t]);
    ASSERT_TRUE(r.seg) << t;
    EXPECT_EQ(r.Frame(0), Box(128, 128, t, t + 10, 0, 128)) << t;
    instances.insert(Str(r.ds(), DCM_SOPInstanceUID));
  }
  EXPECT_EQ(instances.size(), static_cast<size_t>(kThreads));  // fresh UIDs each
}

// --- InvalidArgument cases ---------------------------------------------------

class DicomSegInvalidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ct_ = ReadFileBytes(SegData("CT_small.dcm"));
    mr_ = ReadFileBytes(SegData("MR_small.dcm"));
    mask_ = std::vector<uint8_t>(128 * 128, 1);
  }
  absl::Status Build(const std::vector<std::string_view>& sources, size_t masks = 0) {
    if (masks == 0) masks = sources.size();
    SegSegment s{"x", std::vector<std::vector<uint8_t>>(masks, mask_)};
    return BuildDicomSeg(sources, {s}, Provenance()).status();
  }
  void ExpectInvalid(const absl::Status& s, const std::string& words) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(std::string(s.message()).find(words), std::string::npos) << s;
  }
  std::string ct_, mr_;
  std::vector<uint8_t> mask_;
};

TEST_F(DicomSegInvalidTest, NoSource) {
  ExpectInvalid(Build(std::vector<std::string_view>{}), "no source");
}

TEST_F(DicomSegInvalidTest, NotDicom) {
  ExpectInvalid(Build({"not a dicom file at all"}), "source 0");
}

TEST_F(DicomSegInvalidTest, NoPixelData) {
  std::unique_ptr<DcmFileFormat> f = ParsePart10(ct_);
  f->getDataset()->findAndDeleteElement(DCM_PixelData);
  const std::string bytes = test_support::WritePart10(*f);
  ExpectInvalid(Build({bytes}), "Pixel Data");
}

TEST_F(DicomSegInvalidTest, SourcesDisagree) {
  const auto slices = test_support::SynthesizeSeries(ct_, 2, 1.0);
  ASSERT_EQ(slices.size(), 2u);
  ExpectInvalid(Build({slices[0].bytes, ct_}), "Study Instance UID");
  const std::string study = test_support::WithAttribute(
      test_support::WithAttribute(ct_, DCM_SOPInstanceUID, test_support::NewUid()),
      DCM_SeriesInstanceUID, test_support::NewUid());
  ExpectInvalid(Build({ct_, study}), "Series Instance UID");
  const std::string for_uid = test_support::WithAttribute(
      test_support::WithAttribute(ct_, DCM_SOPInstanceUID, test_support::NewUid()),
      DCM_FrameOfReferenceUID, test_support::NewUid());
  ExpectInvalid(Build({ct_, for_uid}), "Frame of Reference UID");
  // Same instance frame twice.
  ExpectInvalid(Build({ct_, ct_}), "repeats");
}

TEST_F(DicomSegInvalidTest, SizesDisagree) {
  std::unique_ptr<DcmFileFormat> f = ParsePart10(mr_);
  DcmDataset* d = f->getDataset();
  std::unique_ptr<DcmFileFormat> c = ParsePart10(ct_);
  for (const DcmTagKey& tag :
       {DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_FrameOfReferenceUID}) {
    d->putAndInsertString(tag, Str(*c->getDataset(), tag).c_str());
  }
  const std::string mr_in_ct_series = test_support::WritePart10(*f);
  ExpectInvalid(Build({ct_, mr_in_ct_series}), "Rows");
}

TEST_F(DicomSegInvalidTest, MaskCountAndSize) {
  ExpectInvalid(Build({ct_}, 2), "2 masks for 1 sources");
  mask_.pop_back();
  ExpectInvalid(Build({ct_}), "expected 128x128");
}

TEST_F(DicomSegInvalidTest, NoSegments) {
  ExpectInvalid(BuildDicomSeg(std::vector<std::string_view>{ct_}, {}, Provenance()).status(),
                "no segment");
}

TEST_F(DicomSegInvalidTest, NoAlgorithmName) {
  SegProvenance p;
  ExpectInvalid(BuildDicomSeg(std::vector<std::string_view>{ct_}, {{"x", {mask_}}}, p).status(),
                "algorithm name");
}

TEST_F(DicomSegInvalidTest, FrameOutOfRange) {
  ExpectInvalid(
      BuildDicomSeg(std::vector<SegSource>{{ct_, 1}}, {{"x", {mask_}}}, Provenance()).status(),
      "out of range");
  ExpectInvalid(
      BuildDicomSeg(std::vector<SegSource>{{ct_, -1}}, {{"x", {mask_}}}, Provenance()).status(),
      "out of range");
}

}  // namespace
}  // namespace vlsm
