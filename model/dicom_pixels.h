// Part of vlsm_dicom (internal; use model/dicom_decode.h). Turns one frame of
// uncompressed DICOM samples into float values: bit extraction, sign
// extension, rescale and YBR -> RGB. Pure functions on caller-owned buffers;
// no threading concerns. Callers validate sizes first (Status on mismatch).
#ifndef VLSM_MODEL_DICOM_PIXELS_H_
#define VLSM_MODEL_DICOM_PIXELS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vlsm::dicom_internal {

// How the samples of one frame are stored.
struct SampleLayout {
  int64_t rows = 0, cols = 0;
  int samples = 1;         // samples per pixel: 1 or 3
  int bits_allocated = 8;  // 1, 8, 16 or 32
  int bits_stored = 8;
  int high_bit = 7;
  bool is_signed = false;
  bool planar = false;  // colour-by-plane (Planar Configuration 1)
};

// A linear value mapping (DICOM Rescale Slope/Intercept).
struct Rescale {
  double slope = 1, intercept = 0;
  bool identity() const { return slope == 1 && intercept == 0; }
};

// Bytes one frame occupies for bits_allocated 8/16/32 (rows*cols*samples
// samples); for bits_allocated 1 the number of bits instead.
int64_t FrameSampleCount(const SampleLayout& layout);

// Converts a frame of little-endian samples (`bytes` holds exactly one frame,
// bits_allocated 8/16/32) into H x W x C floats at `out` (rows*cols*samples
// values): stored bits taken from high_bit down, sign-extended when signed,
// then `rescale` applied in double precision.
absl::Status ConvertFrame(absl::string_view bytes, const SampleLayout& layout,
                          const Rescale& rescale, float* out);

// Bits Allocated 1: `count` bits starting at bit `first_bit` of `bytes`
// (least significant bit first, as DICOM packs them) into 0/1 floats.
absl::Status UnpackBits(absl::string_view bytes, int64_t first_bit, int64_t count, float* out);

// Native YBR_FULL_422 (8-bit): each pair of pixels is stored as Y1 Y2 Cb Cr.
// Expands one frame of `pixels` pixels into Y Cb Cr triplets (3 bytes each).
absl::Status ExpandYbr422(absl::string_view bytes, int64_t pixels, uint8_t* out);

// In place, H x W x 3 floats holding 8-bit YBR_FULL values -> RGB, exactly as
// pydicom's convert_color_space(arr, "YBR_FULL", "RGB"): float32 arithmetic,
// floor(x + 0.5), clamp to [0, 255].
void YbrFullToRgb(float* pixels, int64_t count);

}  // namespace vlsm::dicom_internal

#endif  // VLSM_MODEL_DICOM_PIXELS_H_
