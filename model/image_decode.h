// Decoding of ordinary image files (PNG, JPEG, BMP, TIFF, WebP) into a
// DecodedImage, with OpenCV's codecs.
//
// Semantics follow what vlsm-adapter's data pipeline sees after PIL's
// Image.open(...).convert('RGB'): gray stays one channel (the preprocessing
// replicates it), alpha is dropped without compositing, palette images are
// expanded through their palette, channels are RGB. 8-bit sources hold
// 0..255 with bits_stored 8; 16-bit sources hold their stored values with
// bits_stored 16 (32-bit float TIFF: bits_stored 32), to be windowed by the
// preprocessing. JPEG EXIF orientation is applied (as PIL's
// ImageOps.exif_transpose would), so the returned image is upright; note
// that vlsm-adapter's training pipeline does NOT transpose EXIF.
// Multi-image files (TIFF pages, animations) yield their first image.
//
// The format is sniffed from the magic bytes; format_hint is only used in
// messages. Limits are enforced before decoding: the byte size, then the
// pixel count from the header (so a 100000 x 100000 PNG is refused without
// allocating), and once more after decoding.
//
// Ownership: reads `bytes` during the call only; the result owns its pixels.
// Threading: safe to call from many threads at once.
// Errors (no exception escapes): InvalidArgument for oversize, corrupt,
// truncated or unsupported input, with the reason; DICOM input (DICM at
// offset 128, or hint "dicom") is InvalidArgument "DICOM is decoded by
// DecodeDicom".
#ifndef VLSM_MODEL_IMAGE_DECODE_H_
#define VLSM_MODEL_IMAGE_DECODE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/image.h"

namespace vlsm {

absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes, const DecodeLimits& limits,
                                         absl::string_view format_hint = "");

}  // namespace vlsm

#endif  // VLSM_MODEL_IMAGE_DECODE_H_
