#include "model/dicom_seg_text.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/ofstd/ofstd.h>

#include "absl/strings/str_cat.h"

namespace vlsm::dicom_seg_internal {

std::string Clean(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char && chars++ == max_chars) break;
    if (c == '\\') {
      out.push_back('/');
    } else if (c < 0x20 || c == 0x7F) {
      out.push_back(' ');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string Ascii(std::string_view text, size_t max_chars) {
  std::string out;
  for (char ch : Clean(text, max_chars)) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else if ((c & 0xC0) != 0x80) {
      out.push_back('?');
    }
  }
  return out;
}

std::string Ds(double v) {
  char buf[32];
  OFStandard::ftoa(buf, sizeof(buf), v, OFStandard::ftoa_uppercase, 0, 10);
  std::string s(buf);
  if (s.size() > 16) {
    OFStandard::ftoa(buf, sizeof(buf), v, OFStandard::ftoa_uppercase, 0, 8);
    s = buf;
  }
  return s;
}

absl::Status PatchText(DcmDataset& ds, const std::vector<SegSegment>& segments,
                       const SegProvenance& provenance) {
  const std::string algorithm = Clean(provenance.algorithm_name, 64);
  OFCondition c = ds.putAndInsertString(DCM_ContentDescription, algorithm.c_str());
  if (c.good() && !provenance.series_description.empty()) {
    c = ds.putAndInsertString(DCM_SeriesDescription,
                              Clean(provenance.series_description, 64).c_str());
  }
  if (c.good() && !provenance.manufacturer.empty()) {
    c = ds.putAndInsertString(DCM_Manufacturer, Clean(provenance.manufacturer, 64).c_str());
  }
  if (c.good() && !provenance.software_version.empty()) {
    c = ds.putAndInsertString(DCM_SoftwareVersions, Clean(provenance.software_version, 64).c_str());
  }
  for (size_t k = 0; c.good() && k < segments.size(); ++k) {
    DcmItem* item = nullptr;
    c = ds.findAndGetSequenceItem(DCM_SegmentSequence, item, static_cast<signed long>(k));
    if (c.good())
      c = item->putAndInsertString(DCM_SegmentLabel, Clean(segments[k].label, 64).c_str());
    if (c.good()) {
      c = item->putAndInsertString(DCM_SegmentDescription, Clean(segments[k].label, 1024).c_str());
    }
    if (c.good()) c = item->putAndInsertString(DCM_SegmentAlgorithmName, algorithm.c_str());
    if (provenance.algorithm_version.empty()) continue;  // no identification sequence
    DcmItem* id = nullptr;
    if (c.good()) {
      c = item->findAndGetSequenceItem(DCM_SegmentationAlgorithmIdentificationSequence, id, 0);
    }
    if (c.good()) c = id->putAndInsertString(DCM_AlgorithmName, algorithm.c_str());
    if (c.good()) {
      c = id->putAndInsertString(DCM_AlgorithmVersion,
                                 Clean(provenance.algorithm_version, 64).c_str());
    }
  }
  if (c.bad()) return absl::InternalError(absl::StrCat("DICOM SEG: text attributes: ", c.text()));
  return absl::OkStatus();
}

}  // namespace vlsm::dicom_seg_internal
