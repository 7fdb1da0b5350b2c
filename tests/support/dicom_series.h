// Test inputs for DICOM SEG: Part 10 bytes in and out of DCMTK, and series
// synthesised from one single-frame image (new UIDs, positions along the
// slice normal). Test-only: inputs are our own trusted fixtures; failures
// return empty strings, which the tests then fail on.
#ifndef VLSM_TESTS_SUPPORT_DICOM_SERIES_H_
#define VLSM_TESTS_SUPPORT_DICOM_SERIES_H_

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/files.h"

namespace vlsm::test_support {

// The fixture directory tests/data/dicom-seg.
inline std::string SegData(const std::string& name) {
  return std::string(VLSM_TESTDATA) + "/dicom-seg/" + name;
}

inline std::unique_ptr<DcmFileFormat> ParsePart10(const std::string& bytes) {
  auto file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  file->transferInit();
  const OFCondition c = file->read(in);
  file->transferEnd();
  if (c.bad()) return nullptr;
  file->loadAllDataIntoMemory();
  return file;
}

inline std::string WritePart10(DcmFileFormat& file) {
  const E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (file.validateMetaInfo(xfer).bad()) return "";
  std::string out(file.calcElementLength(xfer, EET_ExplicitLength), '\0');
  DcmOutputBufferStream stream(out.data(), out.size());
  file.transferInit();
  const OFCondition c = file.write(stream, xfer, EET_ExplicitLength, nullptr);
  file.transferEnd();
  if (c.bad()) return "";
  out.resize(static_cast<size_t>(stream.tell()));
  return out;
}

inline std::string NewUid() {
  char uid[100];
  return dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
}

// Sets a string attribute on a copy of `bytes` (an empty value removes it).
inline std::string WithAttribute(const std::string& bytes, const DcmTagKey& tag,
                                 const std::string& value) {
  std::unique_ptr<DcmFileFormat> file = ParsePart10(bytes);
  if (!file) return "";
  DcmDataset* ds = file->getDataset();
  if (value.empty()) {
    ds->findAndDeleteElement(tag);
  } else if (ds->putAndInsertString(tag, value.c_str()).bad()) {
    return "";
  }
  if (tag == DCM_SOPInstanceUID) {
    file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, value.c_str());
  }
  return WritePart10(*file);
}

// Without Frame of Reference, Image Position/Orientation (Patient) and, when
// `drop_spacing`, Pixel Spacing: a CT a viewer cannot place in space.
inline std::string StripGeometry(const std::string& bytes, bool drop_spacing) {
  std::string out = WithAttribute(bytes, DCM_FrameOfReferenceUID, "");
  out = WithAttribute(out, DCM_ImagePositionPatient, "");
  out = WithAttribute(out, DCM_ImageOrientationPatient, "");
  if (drop_spacing) out = WithAttribute(out, DCM_PixelSpacing, "");
  return out;
}

struct SynthSlice {
  std::string bytes;
  std::string sop_instance_uid;
  std::array<double, 3> position;
};

// `n` slices of a new series (new Study, Series, Frame of Reference and SOP
// Instance UIDs) made from a single-frame image with geometry: slice k sits
// k * `spacing` mm along the normal (row x column direction cosines).
inline std::vector<SynthSlice> SynthesizeSeries(const std::string& image, int n, double spacing) {
  std::vector<SynthSlice> out;
  std::unique_ptr<DcmFileFormat> base = ParsePart10(image);
  if (!base) return out;
  DcmDataset* ds = base->getDataset();
  std::array<double, 3> p0{};
  std::array<double, 6> o{};
  for (int i = 0; i < 3; ++i) ds->findAndGetFloat64(DCM_ImagePositionPatient, p0[i], i);
  for (int i = 0; i < 6; ++i) ds->findAndGetFloat64(DCM_ImageOrientationPatient, o[i], i);
  const std::array<double, 3> normal{o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                                     o[0] * o[4] - o[1] * o[3]};
  const std::string study = NewUid(), series = NewUid(), frame_of_reference = NewUid();
  for (int k = 0; k < n; ++k) {
    DcmFileFormat file(*base);
    DcmDataset* d = file.getDataset();
    SynthSlice slice;
    slice.sop_instance_uid = NewUid();
    for (int i = 0; i < 3; ++i) slice.position[i] = p0[i] + k * spacing * normal[i];
    char ipp[128];
    std::snprintf(ipp, sizeof(ipp), "%.4f\\%.4f\\%.4f", slice.position[0], slice.position[1],
                  slice.position[2]);
    d->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    d->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
    d->putAndInsertString(DCM_FrameOfReferenceUID, frame_of_reference.c_str());
    d->putAndInsertString(DCM_SOPInstanceUID, slice.sop_instance_uid.c_str());
    d->putAndInsertString(DCM_InstanceNumber, std::to_string(k + 1).c_str());
    d->putAndInsertString(DCM_ImagePositionPatient, ipp);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                                           slice.sop_instance_uid.c_str());
    // What the SEG will read back (DS keeps the 4 decimals written).
    for (int i = 0; i < 3; ++i)
      d->findAndGetFloat64(DCM_ImagePositionPatient, slice.position[i], i);
    slice.bytes = WritePart10(file);
    out.push_back(std::move(slice));
  }
  return out;
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_DICOM_SERIES_H_
