// A decoded image as it comes out of a file, before any model preprocessing.
// Shared by the image decoders (OpenCV, DICOM) and the preprocessing.
// Plain value types; no threading concerns.
#ifndef VLSM_MODEL_IMAGE_H_
#define VLSM_MODEL_IMAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vlsm {

// A display window (DICOM VOI LUT, linear): center and width in the image's
// value units (after Rescale Slope/Intercept for DICOM).
struct Window {
  double center = 0;
  double width = 1;
};

struct DecodedImage {
  int64_t height = 0, width = 0;
  int64_t channels = 0;  // 1 (gray) or 3 (RGB order); alpha is dropped by the decoders
  // H x W x C, row-major. 8-bit sources hold 0..255; 16-bit and DICOM sources
  // hold their stored values (DICOM: after Rescale Slope/Intercept).
  std::vector<float> pixels;
  int bits_stored = 8;                 // 8 for 8-bit formats; 16 (or DICOM's value)
  bool monochrome1 = false;            // DICOM MONOCHROME1: low values are bright
  std::optional<Window> file_window;   // DICOM's first VOI window, if any
  std::string format;                  // "png", "jpeg", "tiff", "bmp", "webp", "dicom"
};

// Limits on what a decoder accepts; every violation is InvalidArgument.
struct DecodeLimits {
  int64_t max_bytes = 512ll << 20;     // encoded input size
  int64_t max_pixels = 64ll << 20;     // height * width (decompression bombs)
  int64_t max_frames = 4096;           // DICOM multi-frame
};

}  // namespace vlsm

#endif  // VLSM_MODEL_IMAGE_H_
