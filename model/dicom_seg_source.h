// Part of vlsm_dicom_seg (internal; use model/dicom_seg.h). The source image
// frames of a DICOM SEG: parsed once, checked to belong to one series and
// grid, with the header facts and plane geometry the SEG references.
//
// Geometry of frame k of a source: Image Position (Patient) from the frame's
// Plane Position functional group; else, for a single-frame instance, the
// top-level attribute; else, for a multi-frame one with a Grid Frame Offset
// Vector (RT Dose), the top-level position moved (offset[k] - offset[0]) mm
// along the normal; else (a multi-frame instance without per-frame
// positions) the top-level position for frame 0 only. Orientation, Pixel
// Spacing and Slice Thickness: top level, else the frame's (per-frame or
// shared) functional groups.
//
// Threading: pure; each call owns what it parses. Errors: InvalidArgument as
// listed in model/dicom_seg.h for the sources.
#ifndef VLSM_MODEL_DICOM_SEG_SOURCE_H_
#define VLSM_MODEL_DICOM_SEG_SOURCE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/dicom_decode.h"
#include "model/dicom_parse.h"
#include "model/dicom_seg.h"

namespace vlsm::dicom_seg_internal {

struct Geometry {
  std::optional<std::array<double, 3>> position;
  std::optional<std::array<double, 6>> orientation;
  std::optional<std::array<double, 2>> spacing;  // row, column (mm)
  std::optional<double> thickness;
};

struct SourceFrame {
  DicomInfo info;
  // Values over 4 KiB stay in the caller's bytes, which must outlive this.
  dicom_internal::ParsedDicom parsed;
  int64_t frame = 0;
  Geometry geometry;
  std::string patient_orientation;  // Patient Orientation (0020,0020), if any
};

// Every source parsed and checked; InvalidArgument names the source index.
absl::StatusOr<std::vector<SourceFrame>> ReadSourceFrames(const std::vector<SegSource>& sources);

}  // namespace vlsm::dicom_seg_internal

#endif  // VLSM_MODEL_DICOM_SEG_SOURCE_H_
