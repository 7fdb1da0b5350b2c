// Part of vlsm_dicom (internal; use model/dicom_decode.h). Decodes one JPEG
// 2000 frame (raw J2K codestream or JP2 file, as found in DICOM fragments)
// from memory with OpenJPEG. Each call owns its own codec and stream, so
// concurrent calls are safe. Errors are InvalidArgument with OpenJPEG's
// message; the header is checked against the expected size before any tile
// is decoded, so a codestream claiming a larger image allocates nothing.
#ifndef VLSM_MODEL_DICOM_J2K_H_
#define VLSM_MODEL_DICOM_J2K_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm::dicom_internal {

struct J2kFrame {
  int64_t rows = 0, cols = 0;
  int components = 0;
  int precision = 0;       // bits of component 0
  bool is_signed = false;  // component 0's signedness
  // rows x cols x components, interleaved, as the codestream's values
  // (inverse multi-component transform already applied by OpenJPEG).
  std::vector<int32_t> samples;
};

// `rows`, `cols` and `components` are what the DICOM header declares; a
// codestream that disagrees is refused.
absl::StatusOr<J2kFrame> DecodeJ2kFrame(absl::string_view data, int64_t rows, int64_t cols,
                                        int components);

}  // namespace vlsm::dicom_internal

#endif  // VLSM_MODEL_DICOM_J2K_H_
