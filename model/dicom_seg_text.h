// Part of vlsm_dicom_seg (internal; use model/dicom_seg.h). Text values of a
// DICOM SEG: prompts and provenance cleaned to their value representation's
// rules, ASCII stand-ins for DCMTK's value checks, and the UTF-8 values
// written into the finished dataset.
//
// Why the detour: DCMTK 3.6.7 checks string values as ASCII when it writes
// them into an item not yet inside the dataset (the Segment Sequence items),
// so a UTF-8 prompt would be refused; the SEG is built with Ascii() stand-ins
// and PatchText() then sets the UTF-8 values (Specific Character Set
// ISO_IR 192).
//
// Threading: pure functions. Errors: PatchText returns Internal when the
// dataset lacks what BuildDicomSeg wrote.
#ifndef VLSM_MODEL_DICOM_SEG_TEXT_H_
#define VLSM_MODEL_DICOM_SEG_TEXT_H_

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "model/dicom_seg.h"

namespace vlsm::dicom_seg_internal {

// No backslash (the value separator) or control characters; at most
// `max_chars` characters, cut on a UTF-8 boundary.
std::string Clean(std::string_view text, size_t max_chars);

// Clean() with each non-ASCII character replaced by '?'.
std::string Ascii(std::string_view text, size_t max_chars);

// A Decimal String value (at most 16 characters).
std::string Ds(double v);

// Sets the UTF-8 text of what Build wrote with Ascii(): content, series and
// equipment descriptions, and each segment's label, description and algorithm
// name/version.
absl::Status PatchText(DcmDataset& ds, const std::vector<SegSegment>& segments,
                       const SegProvenance& provenance);

}  // namespace vlsm::dicom_seg_internal

#endif  // VLSM_MODEL_DICOM_SEG_TEXT_H_
