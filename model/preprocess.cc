#include "model/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vlsm {
namespace {

// DICOM PS3.3 C.11.2.1.2.1, linear VOI function, output range 0..255.
double VoiLinear(double x, double center, double width) {
  if (x <= center - 0.5 - (width - 1) / 2) return 0;
  if (x > center - 0.5 + (width - 1) / 2) return 255;
  return ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
}

// The window that maps min onto 0 and max onto 255 exactly.
Window MinMaxWindow(const std::vector<float>& pixels) {
  const auto [lo, hi] = std::minmax_element(pixels.begin(), pixels.end());
  const double min = *lo, max = *hi;
  return Window{(min + max + 1) / 2, max - min + 1};
}

// ---- Pillow 9.4 Resample.c, 8 bits per channel -------------------------

constexpr int kPrecisionBits = 32 - 8 - 2;

double BilinearFilter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// precompute_coeffs + normalize_coeffs_8bpc for one axis.
struct AxisCoeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output: first input index, tap count
  std::vector<int32_t> k;   // out_size x ksize fixed-point weights
};

AxisCoeffs PrecomputeCoeffs(int64_t in_size, float in0, float in1, int64_t out_size) {
  constexpr double kSupport = 1.0;  // BILINEAR
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kSupport * filterscale;
  AxisCoeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(out_size * 2);
  c.k.assign(out_size * c.ksize, 0);
  std::vector<double> kk(c.ksize);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    double ww = 0.0;
    int xmin = static_cast<int>(center - support + 0.5);  // truncation, as in C
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = static_cast<int>(in_size);
    xmax -= xmin;
    std::fill(kk.begin(), kk.end(), 0.0);
    for (int x = 0; x < xmax; ++x) {
      const double w = BilinearFilter((x + xmin - center + 0.5) * ss);
      kk[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) kk[x] /= ww;
    }
    for (int x = 0; x < c.ksize; ++x) {
      const double v = kk[x] * (1 << kPrecisionBits);
      c.k[xx * c.ksize + x] = static_cast<int32_t>(kk[x] < 0 ? -0.5 + v : 0.5 + v);
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

uint8_t Clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// Pillow's ImagingResampleHorizontal_8bpc: `rows` rows of `cols` pixels of
// `ch` interleaved channels, resampled along the row to `out_size` pixels.
std::vector<uint8_t> ResampleHorizontal(const uint8_t* in, int64_t rows, int64_t cols, int64_t ch,
                                        const AxisCoeffs& c, int64_t out_size) {
  std::vector<uint8_t> out(rows * out_size * ch);
  constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* row = in + y * cols * ch;
    uint8_t* dst = out.data() + y * out_size * ch;
    for (int64_t x = 0; x < out_size; ++x) {
      const int32_t* k = &c.k[x * c.ksize];
      const uint8_t* src = row + c.bounds[x * 2] * ch;
      const int taps = c.bounds[x * 2 + 1];
      if (ch == 3) {
        int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
        for (int t = 0; t < taps; ++t, src += 3) {
          s0 += src[0] * k[t];
          s1 += src[1] * k[t];
          s2 += src[2] * k[t];
        }
        dst[x * 3] = Clip8(s0);
        dst[x * 3 + 1] = Clip8(s1);
        dst[x * 3 + 2] = Clip8(s2);
        continue;
      }
      for (int64_t ci = 0; ci < ch; ++ci) {
        int32_t ss = kHalf;
        for (int t = 0; t < taps; ++t) ss += src[t * ch + ci] * k[t];
        dst[x * ch + ci] = Clip8(ss);
      }
    }
  }
  return out;
}

// Pillow's ImagingResampleVertical_8bpc: rows of `row_len` bytes resampled
// along the columns to `out_size` rows. Each output row is a weighted sum of
// whole input rows, accumulated row by row so the inner loop vectorizes.
std::vector<uint8_t> ResampleVertical(const uint8_t* in, int64_t row_len, const AxisCoeffs& c,
                                      int64_t out_size) {
  std::vector<uint8_t> out(out_size * row_len);
  std::vector<int32_t> acc(row_len);
  for (int64_t y = 0; y < out_size; ++y) {
    const int32_t* k = &c.k[y * c.ksize];
    const int first = c.bounds[y * 2], taps = c.bounds[y * 2 + 1];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int t = 0; t < taps; ++t) {
      const uint8_t* src = in + (first + t) * row_len;
      const int32_t weight = k[t];
      for (int64_t j = 0; j < row_len; ++j) acc[j] += src[j] * weight;
    }
    uint8_t* dst = out.data() + y * row_len;
    for (int64_t j = 0; j < row_len; ++j) dst[j] = Clip8(acc[j]);
  }
  return out;
}

// Writes to8(value) of every pixel as RGB (gray replicated); one flat loop
// for RGB so it vectorizes.
template <typename To8>
void FillRgb8(const DecodedImage& image, uint8_t* out, To8 to8) {
  const int64_t n = image.height * image.width;
  const float* in = image.pixels.data();
  if (image.channels == 3) {
    for (int64_t j = 0; j < n * 3; ++j) out[j] = to8(in[j]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = to8(in[i]);
}

}  // namespace

std::vector<uint8_t> ToRgb8(const DecodedImage& image,
                            const std::optional<Window>& request_window) {
  const int64_t n = image.height * image.width;
  std::vector<uint8_t> out(n * 3);
  if (n == 0 || image.pixels.empty()) return out;
  const bool windowed = image.bits_stored > 8 || image.format == "dicom";
  Window window;
  if (windowed) {
    window = request_window      ? *request_window
             : image.file_window ? *image.file_window
                                 : MinMaxWindow(image.pixels);
    window.width = std::max(window.width, 1.0);
  }
  const bool invert = image.monochrome1;
  if (!windowed) {
    // 8-bit sources: clamp, then round half away from zero, which for a
    // float in [0, 255] is exactly truncation of v + 0.5 in double.
    FillRgb8(image, out.data(), [invert](float f) {
      const double v = f;
      const uint8_t u =
          v > 0 ? static_cast<uint8_t>(static_cast<int>(std::min(v, 255.0) + 0.5)) : 0;
      return invert ? static_cast<uint8_t>(255 - u) : u;
    });
  } else {
    FillRgb8(image, out.data(), [invert, window](float v) {
      const auto u = static_cast<uint8_t>(std::lround(VoiLinear(v, window.center, window.width)));
      return invert ? static_cast<uint8_t>(255 - u) : u;
    });
  }
  return out;
}

std::vector<uint8_t> ResizeBilinearPil(const uint8_t* hwc, int64_t h, int64_t w, int64_t channels,
                                       int64_t out_h, int64_t out_w) {
  // ImagingResampleInner with box (0, 0, w, h).
  const bool need_horizontal = out_w != w;
  const bool need_vertical = out_h != h;
  const AxisCoeffs horiz = PrecomputeCoeffs(w, 0.0f, static_cast<float>(w), out_w);
  AxisCoeffs vert = PrecomputeCoeffs(h, 0.0f, static_cast<float>(h), out_h);
  std::vector<uint8_t> temp;
  const uint8_t* src = hwc;
  int64_t rows = h, cols = w;
  if (need_horizontal) {
    // Only the rows the vertical pass reads.
    const int first = vert.bounds[0];
    const int last = vert.bounds[out_h * 2 - 2] + vert.bounds[out_h * 2 - 1];
    for (int64_t i = 0; i < out_h; ++i) vert.bounds[i * 2] -= first;
    temp = ResampleHorizontal(hwc + first * w * channels, last - first, w, channels, horiz, out_w);
    src = temp.data();
    rows = last - first;
    cols = out_w;
  }
  if (need_vertical) {
    return ResampleVertical(src, cols * channels, vert, out_h);
  }
  return std::vector<uint8_t>(src, src + rows * cols * channels);
}

absl::StatusOr<HostTensor> Preprocess(const DecodedImage& image, const PreprocessConfig& config,
                                      const std::optional<Window>& request_window) {
  if (image.height <= 0 || image.width <= 0 || (image.channels != 1 && image.channels != 3) ||
      static_cast<int64_t>(image.pixels.size()) != image.height * image.width * image.channels) {
    return absl::InvalidArgumentError(absl::StrCat("inconsistent image: ", image.height, "x",
                                                   image.width, "x", image.channels, " with ",
                                                   image.pixels.size(), " values"));
  }
  if (config.do_resize && (config.height <= 0 || config.width <= 0 || config.resample != 2)) {
    return absl::InvalidArgumentError(absl::StrCat("bad preprocessing config: ", config.height, "x",
                                                   config.width, " resample ", config.resample,
                                                   " (only 2, BILINEAR)"));
  }
  if (request_window && !(std::isfinite(request_window->center) &&
                          std::isfinite(request_window->width) && request_window->width >= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("bad window: center ", request_window->center,
                                                   ", width ", request_window->width,
                                                   " (width must be >= 1)"));
  }
  std::vector<uint8_t> rgb = ToRgb8(image, request_window);
  int64_t h = image.height, w = image.width;
  if (config.do_resize) {
    rgb = ResizeBilinearPil(rgb.data(), h, w, 3, config.height, config.width);
    h = config.height;
    w = config.width;
  }
  HostTensor out;
  out.shape = {3, h, w};
  out.data.resize(3 * h * w);
  for (int64_t c = 0; c < 3; ++c) {
    float* plane = out.data.data() + c * h * w;
    for (int64_t i = 0; i < h * w; ++i) {
      float v = rgb[i * 3 + c];
      // transformers: rescale in float64, cast to float32; normalize in float32.
      if (config.do_rescale) v = static_cast<float>(rgb[i * 3 + c] * config.rescale_factor);
      if (config.do_normalize) v = (v - config.mean[c]) / config.std[c];
      plane[i] = v;
    }
  }
  return out;
}

}  // namespace vlsm
