#include "model/mask.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vlsm {
namespace {

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// torch's compute_source_index_and_lambda (bilinear, align_corners=False),
// as measured against torch 1.13: the scale in float32, the source
// coordinate and the fraction in double, the weights cast to float32.
struct Tap {
  int64_t i0, i1;
  float l0, l1;
};

std::vector<Tap> LinearTaps(int64_t in, int64_t out) {
  std::vector<Tap> taps(out);
  const double scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    Tap& t = taps[o];
    if (in == out) {
      t = {o, o, 1.0f, 0.0f};
      continue;
    }
    const double real = std::max(scale * (o + 0.5) - 0.5, 0.0);
    t.i0 = std::min(static_cast<int64_t>(std::floor(real)), in - 1);
    const double fraction = std::clamp(real - static_cast<double>(t.i0), 0.0, 1.0);
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
    t.l1 = static_cast<float>(fraction);
    t.l0 = static_cast<float>(1.0 - fraction);
  }
  return taps;
}

}  // namespace

HostTensor ResizeLogitsBilinear(const HostTensor& logits, int64_t out_h, int64_t out_w) {
  const size_t rank = logits.shape.size();
  if (rank < 2 || out_h < 1 || out_w < 1 ||
      logits.numel() != static_cast<int64_t>(logits.data.size())) {
    return HostTensor{};
  }
  const int64_t in_h = logits.shape[rank - 2], in_w = logits.shape[rank - 1];
  const int64_t planes = in_h * in_w == 0 ? 0 : logits.numel() / (in_h * in_w);
  HostTensor out;
  out.shape = logits.shape;
  out.shape[rank - 2] = out_h;
  out.shape[rank - 1] = out_w;
  out.data.resize(planes * out_h * out_w);
  const std::vector<Tap> ty = LinearTaps(in_h, out_h), tx = LinearTaps(in_w, out_w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = logits.data.data() + p * in_h * in_w;
    float* dst = out.data.data() + p * out_h * out_w;
    for (int64_t y = 0; y < out_h; ++y) {
      const float* r0 = src + ty[y].i0 * in_w;
      const float* r1 = src + ty[y].i1 * in_w;
      for (int64_t x = 0; x < out_w; ++x) {
        const Tap& t = tx[x];
        // Outer sum over rows, inner over columns, as torch's Interpolate<2>.
        const float a = r0[t.i0] * t.l0 + r0[t.i1] * t.l1;
        const float b = r1[t.i0] * t.l0 + r1[t.i1] * t.l1;
        dst[y * out_w + x] = a * ty[y].l0 + b * ty[y].l1;
      }
    }
  }
  return out;
}

std::vector<uint8_t> Threshold(const HostTensor& logits, float threshold) {
  std::vector<uint8_t> mask(logits.data.size());
  const float* x = logits.data.data();
  // Near 0 and 1, float sigmoid saturates and the shortcut below would not
  // be exact; such thresholds take the plain comparison.
  if (!(threshold >= 1e-6f && threshold <= 0.999f)) {
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = Sigmoid(x[i]) > threshold ? 1 : 0;
    return mask;
  }
  // sigmoid(x) > t  <=>  x > log(t / (1 - t)). Logits clearly on one side
  // of that boundary are decided without exp; those within a margin (over
  // three times float sigmoid's rounding error, in logit units, for these
  // thresholds) get the exact comparison, so the result is the same as
  // evaluating Sigmoid everywhere.
  const double boundary = std::log(static_cast<double>(threshold) / (1.0 - threshold));
  const double margin = 1e-3 * (1.0 + std::abs(boundary));
  const float above = static_cast<float>(boundary + margin);
  const float below = static_cast<float>(boundary - margin);
  for (size_t i = 0; i < mask.size(); ++i) {
    const float v = x[i];
    mask[i] = v > above ? 1 : (v < below ? 0 : (Sigmoid(v) > threshold ? 1 : 0));
  }
  return mask;
}

std::vector<uint8_t> NearestExactResize(const std::vector<uint8_t>& mask, int64_t in_h,
                                        int64_t in_w, int64_t out_h, int64_t out_w) {
  if (in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1 ||
      static_cast<int64_t>(mask.size()) != in_h * in_w) {
    return {};
  }
  auto source = [](int64_t in, int64_t out) {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    std::vector<int64_t> src(out);
    for (int64_t o = 0; o < out; ++o) {
      // torch: floorf((dst_index + 0.5) * scale), the product in double.
      src[o] =
          std::min(static_cast<int64_t>(std::floor(static_cast<float>((o + 0.5) * scale))), in - 1);
    }
    return src;
  };
  const std::vector<int64_t> sy = source(in_h, out_h), sx = source(in_w, out_w);
  std::vector<uint8_t> out(out_h * out_w);
  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t x = 0; x < out_w; ++x) out[y * out_w + x] = mask[sy[y] * in_w + sx[x]];
  }
  return out;
}

std::vector<uint8_t> MaskFromLogits(const HostTensor& logits, int64_t orig_h, int64_t orig_w,
                                    const MaskOptions& options) {
  std::vector<uint8_t> mask = Threshold(logits, options.threshold);
  if (!options.original_size || logits.shape.size() != 2) return mask;
  return NearestExactResize(mask, logits.shape[0], logits.shape[1], orig_h, orig_w);
}

absl::StatusOr<std::string> EncodeMaskPng(const std::vector<uint8_t>& mask, int64_t h, int64_t w) {
  if (h <= 0 || w <= 0 || h > INT32_MAX || w > INT32_MAX ||
      static_cast<int64_t>(mask.size()) != h * w) {
    return absl::InvalidArgumentError(
        absl::StrCat("mask of ", mask.size(), " values is not ", h, "x", w));
  }
  try {
    cv::Mat m(static_cast<int>(h), static_cast<int>(w), CV_8U);
    for (int64_t i = 0; i < h * w; ++i) m.data[i] = mask[i] ? 255 : 0;
    std::vector<uchar> png;
    if (!cv::imencode(".png", m, png)) return absl::InternalError("PNG encoding failed");
    return std::string(png.begin(), png.end());
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("PNG encoding failed: ", e.what()));
  }
}

std::vector<uint32_t> CocoRleCounts(const std::vector<uint8_t>& mask, int64_t h, int64_t w) {
  std::vector<uint32_t> counts;
  if (h < 0 || w < 0 || static_cast<int64_t>(mask.size()) != h * w) return counts;
  uint8_t previous = 0;
  uint32_t run = 0;
  for (int64_t x = 0; x < w; ++x) {
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t v = mask[y * w + x] ? 1 : 0;
      if (v != previous) {
        counts.push_back(run);
        run = 0;
        previous = v;
      }
      ++run;
    }
  }
  counts.push_back(run);
  return counts;
}

std::string CocoRleString(const std::vector<uint32_t>& counts) {
  // LEB128-like: 5 data bits per char, 0x20 = more, chars 48..111; from the
  // 4th count on, the difference to the count two before is written.
  std::string s;
  for (size_t i = 0; i < counts.size(); ++i) {
    int64_t x = counts[i];
    if (i > 2) x -= counts[i - 2];
    bool more = true;
    while (more) {
      char c = static_cast<char>(x & 0x1f);
      x >>= 5;  // arithmetic shift, as C's on long
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

std::string EncodeCocoRle(const std::vector<uint8_t>& mask, int64_t h, int64_t w) {
  return CocoRleString(CocoRleCounts(mask, h, w));
}

absl::StatusOr<std::vector<uint8_t>> DecodeCocoRle(absl::string_view rle, int64_t h, int64_t w) {
  if (h <= 0 || w <= 0) return absl::InvalidArgumentError("mask size must be positive");
  if (h > std::numeric_limits<int64_t>::max() / w) {
    return absl::InvalidArgumentError("mask size overflows");
  }
  const int64_t total = h * w;
  // Parse and check every count before allocating h * w bytes.
  std::vector<int64_t> counts;
  int64_t covered = 0;
  size_t p = 0;
  while (p < rle.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      // A uint32 count or its difference fits in 7 digits of 5 bits.
      if (p >= rle.size() || k >= 7) return absl::InvalidArgumentError("truncated RLE counts");
      const int c = static_cast<unsigned char>(rle[p]) - 48;
      if (c < 0 || c > 63) return absl::InvalidArgumentError("bad character in RLE counts");
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x -= int64_t{1} << (5 * k);  // sign-extend
    }
    if (counts.size() > 2) x += counts[counts.size() - 2];
    if (x < 0 || x > total - covered) {
      return absl::InvalidArgumentError("RLE counts exceed the mask size");
    }
    counts.push_back(x);
    covered += x;
  }
  if (covered != total) {
    return absl::InvalidArgumentError(
        absl::StrCat("RLE counts cover ", covered, " of ", total, " pixels"));
  }
  std::vector<uint8_t> mask(static_cast<size_t>(total), 0);
  int64_t pos = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i % 2 == 1) {
      for (int64_t j = pos; j < pos + counts[i]; ++j) mask[(j % h) * w + j / h] = 1;  // col-major
    }
    pos += counts[i];
  }
  return mask;
}

uint16_t FloatToHalf(float value) {
  uint32_t f;
  std::memcpy(&f, &value, sizeof(f));
  const uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000);
  const uint32_t abs = f & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00 | ((abs >> 13) & 0x3ff);  // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00;  // >= 65520: rounds to infinity
  if (abs < 0x38800000) {                       // below 2^-14: subnormal or zero
    const uint32_t exponent = abs >> 23;
    if (exponent < 102) return sign;  // below 2^-25
    const uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exponent;
    const uint32_t rest = mantissa & ((1u << shift) - 1), half = 1u << (shift - 1);
    uint32_t h = mantissa >> shift;
    if (rest > half || (rest == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (abs >> 13) - (112u << 10);
  const uint32_t rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

std::vector<uint16_t> ProbabilitiesFloat16(const HostTensor& logits) {
  std::vector<uint16_t> out(logits.data.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = FloatToHalf(Sigmoid(logits.data[i]));
  return out;
}

}  // namespace vlsm
