// A content fingerprint of a model's weights, so an adapter can name the base
// model it was trained on and be refused on any other.
//
// Definition (also implemented by tools/vlsm-convert-ckpt, keep in sync):
//   sha256 over the tensors sorted by name, skipping names that end in
//   "position_ids" (non-persistent HF buffers some files carry), of
//   name '\0' dtype-name '\0' comma-joined shape '\0' raw little-endian bytes.
// Rendered as "sha256:" + 64 lowercase hex digits.
// Threading: pure functions.
#ifndef VLSM_MODEL_FINGERPRINT_H_
#define VLSM_MODEL_FINGERPRINT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/safetensors.h"

namespace vlsm {

std::string WeightsFingerprint(const std::vector<TensorView>& tensors);

// Lowercase hex sha256 of arbitrary bytes (uploads are verified with it).
std::string Sha256Hex(absl::string_view bytes);

}  // namespace vlsm

#endif  // VLSM_MODEL_FINGERPRINT_H_
