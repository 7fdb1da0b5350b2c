// A DICOM SEG read back with DCMTK's dcmseg, for the tests of model/dicom_seg
// and of the service's DICOM_SEG output: the data set, the DcmSegmentation
// over it and the per-frame facts the tests check.
#ifndef VLSM_TESTS_SUPPORT_SEG_READBACK_H_
#define VLSM_TESTS_SUPPORT_SEG_READBACK_H_

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segutils.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/dicom_series.h"

namespace vlsm::test_support {

// The (multi-valued) string of `tag` in `item`; empty when absent.
inline std::string Str(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  item.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

// A SEG read back by DCMTK: the dataset and the dcmseg object over it.
struct ReadBack {
  std::unique_ptr<DcmFileFormat> file;
  std::unique_ptr<DcmSegmentation> seg;
  Uint16 rows = 0, cols = 0;

  DcmDataset& ds() { return *file->getDataset(); }
  std::vector<uint8_t> Frame(size_t k) {
    std::unique_ptr<DcmIODTypes::Frame> unpacked(
        DcmSegUtils::unpackBinaryFrame(seg->getFrame(k), rows, cols));
    if (!unpacked) return {};
    return std::vector<uint8_t>(unpacked->pixData, unpacked->pixData + rows * cols);
  }
  Uint16 SegmentOf(size_t k) {
    auto* fg = static_cast<FGSegmentation*>(
        seg->getFunctionalGroups().get(static_cast<Uint32>(k), DcmFGTypes::EFG_SEGMENTATION));
    Uint16 n = 0;
    if (fg) fg->getReferencedSegmentNumber(n);
    return n;
  }
  std::string SourceOf(size_t k) {
    auto* fg = static_cast<FGDerivationImage*>(
        seg->getFunctionalGroups().get(static_cast<Uint32>(k), DcmFGTypes::EFG_DERIVATIONIMAGE));
    if (!fg || fg->getDerivationImageItems().size() != 1) return "";
    auto& sources = fg->getDerivationImageItems()[0]->getSourceImageItems();
    if (sources.size() != 1) return "";
    OFString uid;
    sources[0]->getImageSOPInstanceReference().getReferencedSOPInstanceUID(uid);
    return uid.c_str();
  }
  std::optional<std::array<double, 3>> PositionOf(size_t k) {
    auto* fg = static_cast<FGPlanePosPatient*>(
        seg->getFunctionalGroups().get(static_cast<Uint32>(k), DcmFGTypes::EFG_PLANEPOSPATIENT));
    std::array<double, 3> p;
    if (!fg || fg->getImagePositionPatient(p[0], p[1], p[2]).bad()) return std::nullopt;
    return p;
  }
  std::vector<std::string> ReferencedInstances(std::string* series_uid) {
    std::vector<std::string> out;
    auto& series = seg->getCommonInstanceReference().getReferencedSeriesItems();
    if (series.size() != 1) return out;
    OFString uid;
    series[0]->getSeriesInstanceUID(uid);
    *series_uid = uid.c_str();
    for (SOPInstanceReferenceMacro* ref : series[0]->getReferencedInstanceItems()) {
      ref->getReferencedSOPInstanceUID(uid);
      out.push_back(uid.c_str());
    }
    return out;
  }
};

// Parses `bytes` and loads the SEG (test failures when either fails, or when
// the transfer syntax is not explicit little endian).
inline ReadBack LoadSeg(const std::string& bytes) {
  ReadBack r;
  r.file = ParsePart10(bytes);
  if (!r.file) {
    ADD_FAILURE() << "the SEG does not parse";
    return r;
  }
  EXPECT_EQ(Str(*r.file->getMetaInfo(), DCM_TransferSyntaxUID),
            UID_LittleEndianExplicitTransferSyntax);
  DcmDataset copy(*r.file->getDataset());
  DcmSegmentation* seg = nullptr;
  const OFCondition c = DcmSegmentation::loadDataset(copy, seg);
  EXPECT_TRUE(c.good()) << c.text();
  r.seg.reset(seg);
  r.file->getDataset()->findAndGetUint16(DCM_Rows, r.rows);
  r.file->getDataset()->findAndGetUint16(DCM_Columns, r.cols);
  return r;
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_SEG_READBACK_H_
