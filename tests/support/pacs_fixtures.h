// DICOM fixtures for the PACS bridge tests: the pydicom sample images in
// tests/data/pacs and slices of a synthetic series made from them.
#ifndef VLSM_TESTS_SUPPORT_PACS_FIXTURES_H_
#define VLSM_TESTS_SUPPORT_PACS_FIXTURES_H_

#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "gtest/gtest.h"
#include "tests/support/files.h"

namespace vlsm::pacs::test {

inline std::string PacsData(const std::string& name) {
  return std::string(VLSM_TESTDATA) + "/pacs/" + name;
}

using vlsm::test_support::ReadFileBytes;

// The Part 10 bytes of `file` after `edit` changed its data set.
inline std::string EditedCopy(const std::string& file,
                              const std::function<void(DcmDataset&)>& edit) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(file.c_str()).good());
  ff.loadAllDataIntoMemory();
  edit(*ff.getDataset());
  static int counter = 0;
  const std::string tmp = ::testing::TempDir() + "/pacs_fixture_" + std::to_string(::getpid()) +
                          "_" + std::to_string(++counter) + ".dcm";
  EXPECT_TRUE(ff.saveFile(tmp.c_str(), EXS_LittleEndianExplicit).good());
  std::string bytes = ReadFileBytes(tmp);
  std::remove(tmp.c_str());
  return bytes;
}

// Slice `index` of a synthetic CT series (CT_small with new UIDs), at z =
// z0 + index * 2.5 mm, Instance Number = `instance_number`.
inline std::string CtSlice(const std::string& series_uid, int index, long instance_number) {
  return EditedCopy(PacsData("CT_small.dcm"), [&](DcmDataset& ds) {
    ds.putAndInsertString(DCM_SeriesInstanceUID, series_uid.c_str());
    ds.putAndInsertString(DCM_SOPInstanceUID, absl::StrCat(series_uid, ".", index + 1).c_str());
    ds.putAndInsertString(DCM_ImagePositionPatient,
                          absl::StrCat("-158.1\\-179.0\\", -75.0 + 2.5 * index).c_str());
    ds.putAndInsertString(DCM_InstanceNumber, std::to_string(instance_number).c_str());
  });
}

}  // namespace vlsm::pacs::test

#endif  // VLSM_TESTS_SUPPORT_PACS_FIXTURES_H_
