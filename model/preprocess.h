// Model preprocessing: DecodedImage -> the normalized [3, H, W] float32
// HostTensor the engine takes, bit-for-bit what HF's ViTImageProcessor
// (CLIPSegProcessor's image processor, transformers v4.41.1) computes with
// Pillow 9.4 after vlsm-adapter's PIL convert('RGB'):
//   ToRgb8 -> ResizeBilinearPil -> x * rescale_factor (float64, cast to
//   float32) -> (x - mean) / std in float32 -> HWC to CHW.
//
// Ownership: every function returns new buffers; inputs are only read.
// Threading: pure functions; safe from any thread.
// Errors: absl::Status at the boundaries (config loading, Preprocess);
// ToRgb8 and ResizeBilinearPil expect valid arguments (Preprocess checks
// them first).
#ifndef VLSM_MODEL_PREPROCESS_H_
#define VLSM_MODEL_PREPROCESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/host_tensor.h"
#include "model/image.h"

namespace vlsm {

struct PreprocessConfig {
  int64_t height = 352, width = 352;
  int resample = 2;  // PIL.Image.BILINEAR, the only one implemented
  double rescale_factor = 1 / 255.;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};
  bool do_resize = true, do_rescale = true, do_normalize = true;
};

// Parses preprocessor_config.json text. Accepts both hub styles: `size` as
// an integer, as {"height", "width"}, or as {"shortest_edge"} (taken as a
// square); `feature_extractor_type` (ViTFeatureExtractor) or
// `image_processor_type` (ViTImageProcessor). Missing keys keep the defaults.
// InvalidArgument for malformed JSON, wrong types, non-positive sizes, zero
// std, another processor type, or do_center_crop; Unimplemented for a
// resample other than 2 (BILINEAR).
absl::StatusOr<PreprocessConfig> ParsePreprocessConfig(absl::string_view json_text);
// Reads <model_dir>/preprocessor_config.json; the defaults (CIDAS/clipseg-
// rd64-refined: 352x352) when the file does not exist.
absl::StatusOr<PreprocessConfig> LoadPreprocessConfig(const std::string& model_dir);

// The display-ready H x W x 3 RGB bytes of an image. 8-bit non-DICOM sources
// are taken as they are (gray replicated to RGB). Sources over 8 bits and
// DICOM are windowed with the DICOM linear VOI function (PS3.3 C.11.2.1.2.1)
// using request_window, else image.file_window, else the image's min..max
// (mapped exactly onto 0..255), rounded to nearest; MONOCHROME1 is inverted
// after windowing. A window width below 1 is taken as 1.
std::vector<uint8_t> ToRgb8(const DecodedImage& image, const std::optional<Window>& request_window);

// Pillow 9.4's Image.resize(..., BILINEAR) on 8-bit data (ImagingResample:
// separable triangle filter whose support widens with the downscale factor,
// 22-bit fixed-point coefficients, horizontal pass then vertical), exact.
// hwc: h x w x channels bytes; all sizes >= 1.
std::vector<uint8_t> ResizeBilinearPil(const uint8_t* hwc, int64_t h, int64_t w, int64_t channels,
                                       int64_t out_h, int64_t out_w);

// The model input [3, config.height, config.width] (or [3, H, W] of the
// image when !do_resize). InvalidArgument for an empty or inconsistent
// image, a bad config, or a non-finite or < 1 request window width.
absl::StatusOr<HostTensor> Preprocess(const DecodedImage& image, const PreprocessConfig& config,
                                      const std::optional<Window>& request_window);

}  // namespace vlsm

#endif  // VLSM_MODEL_PREPROCESS_H_
