// From the engine's logits [S, S] to what a clinician or a client sees:
// binary masks, their encodings (PNG, COCO RLE), float16 probabilities and a
// human-readable overlay.
//
// Masks are std::vector<uint8_t>, H x W row-major, 0 = background and any
// non-zero value = foreground (the functions here produce 0/1).
// vlsm-adapter's evaluation computes `sigmoid(logits) > threshold` at the
// model's S x S and then resizes the binary map to the original image size
// with nearest-exact; MaskFromLogits does exactly that.
//
// Ownership: every function returns new buffers; inputs are only read.
// Threading: pure functions; safe from any thread.
// Errors: encoders that can fail return absl::Status (InvalidArgument for
// inconsistent sizes, Internal for an OpenCV failure); no exception escapes.
// The plain functions return an empty result for inconsistent sizes.
#ifndef VLSM_MODEL_MASK_H_
#define VLSM_MODEL_MASK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/host_tensor.h"

namespace vlsm {

struct MaskOptions {
  float threshold = 0.5f;     // on sigmoid(logit)
  bool original_size = true;  // resize the mask to the image's size
};

// Bilinear resize of the last two dims (any leading dims are planes), as
// torch.nn.functional.interpolate(mode='bilinear', align_corners=False,
// antialias=False) computes it in float32 (torch 1.13: float32 scale, source
// coordinates in double); equal to torch within a few ulp. Empty for rank < 2
// or out sizes < 1.
HostTensor ResizeLogitsBilinear(const HostTensor& logits, int64_t out_h, int64_t out_w);

// 1 where sigmoid(logit) > threshold, else 0; same layout as logits.data.
std::vector<uint8_t> Threshold(const HostTensor& logits, float threshold);

// torch 'nearest-exact' (torchvision NEAREST_EXACT): per axis
// src = min(floor((dst + 0.5) * in / out), in - 1), with torch's float32
// scale. Empty unless mask.size() == in_h * in_w and all sizes >= 1.
std::vector<uint8_t> NearestExactResize(const std::vector<uint8_t>& mask, int64_t in_h,
                                        int64_t in_w, int64_t out_h, int64_t out_w);

// Threshold at the logits' S x S, then (options.original_size) nearest-exact
// to orig_h x orig_w: vlsm-adapter's BaseModule + eval.py. logits: [S, S].
std::vector<uint8_t> MaskFromLogits(const HostTensor& logits, int64_t orig_h, int64_t orig_w,
                                    const MaskOptions& options);

// An 8-bit grayscale PNG with 0 / 255.
absl::StatusOr<std::string> EncodeMaskPng(const std::vector<uint8_t>& mask, int64_t h, int64_t w);

// COCO uncompressed RLE counts (pycocotools rleEncode): runs over the mask in
// column-major (Fortran) order, alternating background / foreground,
// starting with background (so the first count may be 0). Empty when
// mask.size() != h * w.
std::vector<uint32_t> CocoRleCounts(const std::vector<uint8_t>& mask, int64_t h, int64_t w);
// pycocotools rleToString: the compressed "counts" string of a COCO RLE
// ({"size": [h, w], "counts": <this>}).
std::string CocoRleString(const std::vector<uint32_t>& counts);
std::string EncodeCocoRle(const std::vector<uint8_t>& mask, int64_t h, int64_t w);
// The inverse (pycocotools rleFrString + rleDecode): a compressed counts
// string to an h x w row-major 0/1 mask. InvalidArgument for a non-positive
// size, a malformed string, or counts that do not sum to exactly h * w.
absl::StatusOr<std::vector<uint8_t>> DecodeCocoRle(absl::string_view rle, int64_t h, int64_t w);

// IEEE 754 binary16 bits of a float, rounded to nearest, ties to even;
// overflow to infinity, NaN stays NaN.
uint16_t FloatToHalf(float value);
// sigmoid(logits) as float16 bits, same layout as logits.data.
std::vector<uint16_t> ProbabilitiesFloat16(const HostTensor& logits);

// Height of the caption band RenderOverlayPng adds below an image `width`
// pixels wide.
int64_t OverlayBandHeight(int64_t width);
// A PNG for people to look at: the image (rgb8: h x w x 3) with the mask
// (h x w) tinted red at 45 % opacity and outlined in yellow, above a dark
// band of OverlayBandHeight(w) rows holding the caption in white (ASCII; other
// characters print as '?', long captions are cut with "..."). Output size:
// w x (h + OverlayBandHeight(w)). InvalidArgument for inconsistent sizes.
absl::StatusOr<std::string> RenderOverlayPng(const std::vector<uint8_t>& rgb8, int64_t h, int64_t w,
                                             const std::vector<uint8_t>& mask,
                                             const std::string& caption);

}  // namespace vlsm

#endif  // VLSM_MODEL_MASK_H_
