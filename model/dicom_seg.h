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
//
// Geometry: when every source frame has a Frame of Reference UID, Image
// Position and Orientation (Patient) and Pixel Spacing (rules for multi-frame
// sources: model/dicom_seg_source.h), the SEG carries that Frame of Reference
// with per-frame Plane Position, Plane Orientation (shared, or per frame when
// the sources differ) and shared Pixel Measures (Slice Thickness: the
// sources' common one, else the smallest gap between their planes); its
// dimensions are (Referenced Segment Number, Image Position Patient).
// Otherwise (e.g. secondary capture, or a CT without geometry) the SEG has no
// Frame of Reference and no plane functional groups, which DICOM allows
// because every frame names its source image in the Derivation Image
// functional group; it takes the source's Patient Orientation (type 2C) and
// its dimensions are (Referenced Segment Number, In-Stack Position Number),
// the position being the source's index + 1. Pixel Measures are kept
// whenever every source has Pixel Spacing. The objects pass dicom3tools'
// dciodvfy without errors (tests/dicom_seg_check.py).
//
// Coded concepts: Segmented Property Category and Type default to SCT
// 85756007 "Tissue" (CIDs 7150 / 7151); the algorithm family is DCM 123110
// "Artificial Intelligence" (CID 7162). The full prompt also goes into
// Segment Description. Text is written as UTF-8 (Specific Character Set
// ISO_IR 192); the source's patient/study attributes are converted to it.
// Lossy Image Compression is "01" (with the source's ratio and method) when a
// source says "01". Pixel Data is packed here, frames back to back with no
// padding (DCMTK 3.6.7 loses bits of the last byte when rows*columns is not a
// multiple of 8).
//
// Errors (no exception escapes): InvalidArgument when there is no source, a
// source does not parse as a DICOM image (or lacks its SOP Class, SOP
// Instance, Study or Series Instance UID, or its frame is out of range, or the
// same instance frame is given twice, or its character set cannot be
// converted to UTF-8), the sources disagree on Study
// Instance UID, Series Instance UID, Frame of Reference UID, Rows or Columns,
// a segment does not have one mask per source, a mask's size is not
// rows*cols of its source, there are no segments (or more than 65535), or the
// algorithm name is empty; Internal when DCMTK refuses to build or write the
// object (the message says why).
#ifndef VLSM_MODEL_DICOM_SEG_H_
#define VLSM_MODEL_DICOM_SEG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vlsm {

// A coded concept (Code Value, Coding Scheme Designator, Code Meaning).
struct SegCode {
  std::string value;
  std::string scheme;
  std::string meaning;
};

struct SegSegment {
  std::string label;  // the prompt (Segment Label, max 64 chars; longer is cut)
  // One mask per source instance, in the order of `sources`: rows*cols bytes,
  // row-major, 0 = background, anything else = inside.
  std::vector<std::vector<uint8_t>> frames;
  SegCode category{"85756007", "SCT", "Tissue"};  // Segmented Property Category
  SegCode type{"85756007", "SCT", "Tissue"};      // Segmented Property Type
};

struct SegProvenance {
  std::string algorithm_name;     // e.g. "CLIPSeg clipseg-rd64-refined + polyp@3"
  std::string algorithm_version;  // e.g. "vlsm-serve 0.1; base sha256:...; adapter polyp@3"
  // (algorithm_version goes into the Segmentation Algorithm Identification
  // Sequence, family DCM 123110; left out when empty.)
  std::string series_description = "vlsm-serve segmentation";
  std::string manufacturer = "vlsm-serve";
  std::string software_version = "0.1";
  int32_t series_number = 9001;
};

struct SegOptions {
  // Leave out frames whose mask is empty (default: keep every frame, so the
  // SEG has segments x sources frames).
  // A segment whose masks are all empty still keeps its first frame, so
  // that every segment stays in the object with at least one frame.
  bool omit_empty_frames = false;
};

// One source image frame: the Part 10 bytes of an instance and, for a
// multi-frame instance, which frame (0-based) the masks belong to. The SEG
// references multi-frame sources with Referenced Frame Number.
struct SegSource {
  std::string_view bytes;
  int64_t frame = 0;
};

// sources: the Part 10 bytes of the source instances of ONE series, in slice
// order (the caller sorts them along the slice normal). Returns the Part 10
// bytes of the SEG instance (new SOP Instance and Series Instance UIDs).
absl::StatusOr<std::string> BuildDicomSeg(const std::vector<std::string_view>& sources,
                                          const std::vector<SegSegment>& segments,
                                          const SegProvenance& provenance,
                                          const SegOptions& options = {});

// The same for sources given as instance frames (several frames of one
// multi-frame instance, or single-frame instances with frame 0).
absl::StatusOr<std::string> BuildDicomSeg(const std::vector<SegSource>& sources,
                                          const std::vector<SegSegment>& segments,
                                          const SegProvenance& provenance,
                                          const SegOptions& options = {});

}  // namespace vlsm

#endif  // VLSM_MODEL_DICOM_SEG_H_
