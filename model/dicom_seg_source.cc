#include "model/dicom_seg_source.h"

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vlsm::dicom_seg_internal {
namespace {

using dicom_internal::ParsedDicom;
using dicom_internal::ParseDicom;

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

// All values of a DS element; nullopt when absent, empty or malformed.
std::optional<std::vector<double>> GetNumbers(DcmItem* item, const DcmTagKey& tag) {
  DcmElement* element = nullptr;
  if (item == nullptr || item->findAndGetElement(tag, element).bad() || element == nullptr ||
      element->getVM() == 0 || element->getLength() == 0) {
    return std::nullopt;
  }
  std::vector<double> out(element->getVM());
  for (size_t i = 0; i < out.size(); ++i) {
    OFString text;
    if (element->getOFString(text, i).bad() || !absl::SimpleAtod(text.c_str(), &out[i])) {
      return std::nullopt;
    }
  }
  return out;
}

template <size_t N>
std::optional<std::array<double, N>> GetFixed(DcmItem* item, const DcmTagKey& tag) {
  std::optional<std::vector<double>> values = GetNumbers(item, tag);
  if (!values || values->size() != N) return std::nullopt;
  std::array<double, N> out;
  std::copy(values->begin(), values->end(), out.begin());
  return out;
}

// The item of functional group macro `macro` for `frame`: per-frame first,
// then shared (enhanced multi-frame objects).
DcmItem* FunctionalGroup(DcmItem& ds, int64_t frame, const DcmTagKey& macro) {
  DcmItem* group = nullptr;
  DcmItem* item = nullptr;
  if (ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group,
                                static_cast<signed long>(frame))
          .good() &&
      group->findAndGetSequenceItem(macro, item, 0).good()) {
    return item;
  }
  if (ds.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, group, 0).good() &&
      group->findAndGetSequenceItem(macro, item, 0).good()) {
    return item;
  }
  return nullptr;
}

std::optional<std::array<double, 3>> Position(const DicomInfo& info, DcmDataset& ds, int64_t frame,
                                              const std::optional<std::array<double, 6>>& o) {
  if (auto p = GetFixed<3>(FunctionalGroup(ds, frame, DCM_PlanePositionSequence),
                           DCM_ImagePositionPatient)) {
    return p;
  }
  if (!info.image_position_patient) return std::nullopt;
  const std::array<double, 3>& p0 = *info.image_position_patient;
  if (info.frames == 1) return p0;
  const auto offsets = GetNumbers(&ds, DCM_GridFrameOffsetVector);
  if (offsets && static_cast<int64_t>(offsets->size()) == info.frames && o) {
    const std::array<double, 6>& c = *o;
    const std::array<double, 3> normal{c[1] * c[5] - c[2] * c[4], c[2] * c[3] - c[0] * c[5],
                                       c[0] * c[4] - c[1] * c[3]};
    const double d = (*offsets)[frame] - (*offsets)[0];
    return std::array<double, 3>{p0[0] + d * normal[0], p0[1] + d * normal[1],
                                 p0[2] + d * normal[2]};
  }
  if (frame == 0) return p0;
  return std::nullopt;
}

Geometry ReadGeometry(const DicomInfo& info, DcmDataset& ds, int64_t frame) {
  Geometry g;
  g.orientation = info.image_orientation_patient
                      ? info.image_orientation_patient
                      : GetFixed<6>(FunctionalGroup(ds, frame, DCM_PlaneOrientationSequence),
                                    DCM_ImageOrientationPatient);
  DcmItem* measures = FunctionalGroup(ds, frame, DCM_PixelMeasuresSequence);
  g.spacing = info.pixel_spacing ? info.pixel_spacing : GetFixed<2>(measures, DCM_PixelSpacing);
  g.thickness = info.slice_thickness;
  if (!g.thickness) {
    if (auto t = GetFixed<1>(measures, DCM_SliceThickness)) g.thickness = (*t)[0];
  }
  g.position = Position(info, ds, frame, g.orientation);
  return g;
}

const char* Differs(const DicomInfo& a, const DicomInfo& b) {
  if (a.study_instance_uid != b.study_instance_uid) return "Study Instance UID";
  if (a.series_instance_uid != b.series_instance_uid) return "Series Instance UID";
  if (a.frame_of_reference_uid != b.frame_of_reference_uid) return "Frame of Reference UID";
  if (a.rows != b.rows) return "Rows";
  if (a.cols != b.cols) return "Columns";
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<SourceFrame>> ReadSourceFrames(const std::vector<SegSource>& in) {
  if (in.empty()) return Invalid("DICOM SEG: no source image");
  std::vector<SourceFrame> out;
  out.reserve(in.size());
  std::set<std::pair<std::string, int64_t>> seen;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string which = absl::StrCat("DICOM SEG: source ", i, ": ");
    const absl::string_view bytes(in[i].bytes.data(), in[i].bytes.size());
    absl::StatusOr<DicomInfo> info = ReadDicomInfo(bytes);
    if (!info.ok()) return Invalid(absl::StrCat(which, info.status().message()));
    absl::StatusOr<ParsedDicom> parsed = ParseDicom(bytes, DecodeLimits());
    if (!parsed.ok()) return Invalid(absl::StrCat(which, parsed.status().message()));
    if (in[i].frame < 0 || in[i].frame >= info->frames) {
      return Invalid(absl::StrCat(which, "frame ", in[i].frame, " out of range (", info->frames,
                                  " frame(s))"));
    }
    if (info->sop_class_uid.empty() || info->sop_instance_uid.empty() ||
        info->study_instance_uid.empty() || info->series_instance_uid.empty()) {
      return Invalid(
          absl::StrCat(which, "missing SOP Class, SOP Instance, Study or Series Instance UID"));
    }
    if (!seen.emplace(info->sop_instance_uid, in[i].frame).second) {
      return Invalid(absl::StrCat(which, "repeats an earlier source instance frame"));
    }
    if (!out.empty()) {
      if (const char* what = Differs(out.front().info, *info)) {
        return Invalid(absl::StrCat(which, what, " differs from source 0"));
      }
    }
    SourceFrame s{*std::move(info), *std::move(parsed), in[i].frame, {}, {}};
    s.geometry = ReadGeometry(s.info, *s.parsed.dataset, s.frame);
    OFString orientation;
    if (s.parsed.dataset->findAndGetOFStringArray(DCM_PatientOrientation, orientation).good()) {
      s.patient_orientation = orientation.c_str();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vlsm::dicom_seg_internal
