#include "model/image_input.h"

#include "model/dicom_decode.h"
#include "model/image_decode.h"

namespace vlsm {

bool LooksLikeDicom(absl::string_view bytes) {
  return bytes.size() >= 132 && bytes.substr(128, 4) == "DICM";
}

absl::StatusOr<DecodedImage> DecodeAnyImage(absl::string_view bytes, const DecodeLimits& limits,
                                            absl::string_view format_hint, int64_t frame) {
  // Part 10 files are sniffed; a bare data set (no preamble) needs the hint.
  if (LooksLikeDicom(bytes) || format_hint == "dicom" || format_hint == "dcm") {
    return DecodeDicom(bytes, limits, frame);
  }
  return DecodeImage(bytes, limits, format_hint);
}

}  // namespace vlsm
