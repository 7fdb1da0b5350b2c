// One entry point for every image format the service accepts: sniffs the
// bytes and hands DICOM to DCMTK, everything else to OpenCV.
// Threading: pure function. Errors: InvalidArgument with the reason for
// corrupt, truncated, oversized or unsupported input.
#ifndef VLSM_MODEL_IMAGE_INPUT_H_
#define VLSM_MODEL_IMAGE_INPUT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/image.h"

namespace vlsm {

// True for DICOM Part 10 bytes ("DICM" at offset 128).
bool LooksLikeDicom(absl::string_view bytes);

// `frame` selects the frame of a multi-frame DICOM (ignored otherwise).
absl::StatusOr<DecodedImage> DecodeAnyImage(absl::string_view bytes, const DecodeLimits& limits,
                                            absl::string_view format_hint = "",
                                            int64_t frame = 0);

}  // namespace vlsm

#endif  // VLSM_MODEL_IMAGE_INPUT_H_
