#include "model/dicom_pixels.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vlsm::dicom_internal {
namespace {

// Reads sample `index` (little endian, `bytes_per_sample` wide) as unsigned.
inline uint32_t ReadSample(const uint8_t* data, int64_t index, int bytes_per_sample) {
  const uint8_t* p = data + index * bytes_per_sample;
  switch (bytes_per_sample) {
    case 1:
      return p[0];
    case 2:
      return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8);
    default:
      return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
             (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
}

}  // namespace

int64_t FrameSampleCount(const SampleLayout& layout) {
  return layout.rows * layout.cols * layout.samples;
}

absl::Status ConvertFrame(absl::string_view bytes, const SampleLayout& layout,
                          const Rescale& rescale, float* out) {
  const int bytes_per_sample = layout.bits_allocated / 8;
  if (layout.bits_allocated != 8 && layout.bits_allocated != 16 && layout.bits_allocated != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported Bits Allocated ", layout.bits_allocated));
  }
  if (layout.bits_stored < 1 || layout.bits_stored > layout.bits_allocated ||
      layout.high_bit < layout.bits_stored - 1 || layout.high_bit >= layout.bits_allocated) {
    return absl::InvalidArgumentError(absl::StrCat("inconsistent Bits Stored ", layout.bits_stored,
                                                   " / High Bit ", layout.high_bit,
                                                   " for Bits Allocated ", layout.bits_allocated));
  }
  const int64_t pixels = layout.rows * layout.cols;
  const int64_t count = pixels * layout.samples;
  if (static_cast<int64_t>(bytes.size()) < count * bytes_per_sample) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame holds ", bytes.size(), " bytes, expected ", count * bytes_per_sample));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const int shift = layout.high_bit - layout.bits_stored + 1;
  const uint64_t mask = (uint64_t{1} << layout.bits_stored) - 1;
  const int64_t sign_bit = int64_t{1} << (layout.bits_stored - 1);
  const bool identity = rescale.identity();
  for (int64_t i = 0; i < pixels; ++i) {
    for (int s = 0; s < layout.samples; ++s) {
      const int64_t src = layout.planar ? s * pixels + i : i * layout.samples + s;
      int64_t v = static_cast<int64_t>((ReadSample(data, src, bytes_per_sample) >> shift) & mask);
      if (layout.is_signed && (v & sign_bit) != 0) v -= sign_bit << 1;
      // int64 -> double is exact here; one rounding to float, as numpy does.
      const double value = identity ? static_cast<double>(v)
                                    : static_cast<double>(v) * rescale.slope + rescale.intercept;
      out[i * layout.samples + s] = static_cast<float>(value);
    }
  }
  return absl::OkStatus();
}

absl::Status UnpackBits(absl::string_view bytes, int64_t first_bit, int64_t count, float* out) {
  if (first_bit < 0 || count < 0 || static_cast<int64_t>(bytes.size()) * 8 < first_bit + count) {
    return absl::InvalidArgumentError(absl::StrCat("1-bit Pixel Data holds ", bytes.size(),
                                                   " bytes, frame needs bits up to ",
                                                   first_bit + count));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  for (int64_t i = 0; i < count; ++i) {
    const int64_t bit = first_bit + i;
    out[i] = static_cast<float>((data[bit >> 3] >> (bit & 7)) & 1);
  }
  return absl::OkStatus();
}

absl::Status ExpandYbr422(absl::string_view bytes, int64_t pixels, uint8_t* out) {
  if (pixels % 2 != 0) {
    return absl::InvalidArgumentError("YBR_FULL_422 frame with an odd number of pixels");
  }
  if (static_cast<int64_t>(bytes.size()) < pixels * 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("YBR_FULL_422 frame holds ", bytes.size(), " bytes, expected ", pixels * 2));
  }
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  for (int64_t pair = 0; pair < pixels / 2; ++pair) {
    const uint8_t* g = in + pair * 4;  // Y1 Y2 Cb Cr
    uint8_t* o = out + pair * 6;       // Y1 Cb Cr Y2 Cb Cr
    o[0] = g[0];
    o[1] = g[2];
    o[2] = g[3];
    o[3] = g[1];
    o[4] = g[2];
    o[5] = g[3];
  }
  return absl::OkStatus();
}

void YbrFullToRgb(float* pixels, int64_t count) {
  // pydicom's float32 matrix (the coefficients computed in double first).
  const float cb_g = static_cast<float>(-0.114 * 1.772 / 0.587);
  const float cr_g = static_cast<float>(-0.299 * 1.402 / 0.587);
  const float cr_r = 1.402f, cb_b = 1.772f;
  auto round_clamp = [](float x) {
    const float r = std::floor(x + 0.5f);
    return r < 0.f ? 0.f : (r > 255.f ? 255.f : r);
  };
  for (int64_t i = 0; i < count; ++i) {
    float* p = pixels + i * 3;
    const float y = p[0], cb = p[1] - 128.f, cr = p[2] - 128.f;
    p[0] = round_clamp(y + cr * cr_r);
    p[1] = round_clamp(y + cb * cb_g + cr * cr_g);
    p[2] = round_clamp(y + cb * cb_b);
  }
}

}  // namespace vlsm::dicom_internal
