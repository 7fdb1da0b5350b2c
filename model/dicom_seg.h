// DICOM Segmentation (SEG) objects from binary masks over DICOM source
// images, built with DCMTK's dcmseg (torch-free).
//
// A SEG made here is BINARY, one segment per SegSegment (labelled with its
// prompt), Segment Algorithm Type AUTOMATIC with the algorithm name and
// version given in SegProvenance (base model and adapter name@version, for
// audit). It references the source series and every source instance
// (Referenced Series Sequence + per-frame Derivation Image / Source Image),
// copies the patient/study modules and the Frame of Reference from the
// sources, and carries per-frame Plane Position (Patient) and the shared
// Plane Orientation (Patient) and Pixel Measures, so viewers overlay it
// correctly. Frames are ordered segment-major, then in source order.
//
// Ownership: BuildDicomSeg reads its arguments during the call only.
// Threading: safe to call concurrently (no shared state besides DCMTK's
// process-wide dictionary).
// Errors (no exception escapes): InvalidArgument when there is no source, a
// source does not parse as a DICOM image, the sources disagree on Study
// Instance UID, Series Instance UID, Frame of Reference UID, Rows or Columns,
// a mask's size is not rows*cols of its source, or there are no segments;
// Internal when DCMTK refuses to build or write the object (the message says
// why).
#ifndef VLSM_MODEL_DICOM_SEG_H_
#define VLSM_MODEL_DICOM_SEG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vlsm {

struct SegSegment {
  std::string label;  // the prompt (Segment Label, max 64 chars; longer is cut)
  // One mask per source instance, in the order of `sources`: rows*cols bytes,
  // row-major, 0 = background, anything else = inside.
  std::vector<std::vector<uint8_t>> frames;
};

struct SegProvenance {
  std::string algorithm_name;     // e.g. "CLIPSeg clipseg-rd64-refined + polyp@3"
  std::string algorithm_version;  // e.g. "vlsm-serve 0.1; base sha256:...; adapter polyp@3"
  std::string series_description = "vlsm-serve segmentation";
  std::string manufacturer = "vlsm-serve";
  std::string software_version = "0.1";
  int32_t series_number = 9001;
};

struct SegOptions {
  // Leave out frames whose mask is empty (default: keep every frame, so the
  // SEG has segments x sources frames).
  bool omit_empty_frames = false;
};

// sources: the Part 10 bytes of the source instances of ONE series, in slice
// order (the caller sorts them along the slice normal). Returns the Part 10
// bytes of the SEG instance (new SOP Instance and Series Instance UIDs).
absl::StatusOr<std::string> BuildDicomSeg(const std::vector<std::string_view>& sources,
                                          const std::vector<SegSegment>& segments,
                                          const SegProvenance& provenance,
                                          const SegOptions& options = {});

}  // namespace vlsm

#endif  // VLSM_MODEL_DICOM_SEG_H_
