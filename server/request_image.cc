#include "server/request_image.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace vlsm {
namespace {

int BytesPerSample(v1::PixelType type) {
  switch (type) {
    case v1::UINT8:
      return 1;
    case v1::UINT16:
    case v1::INT16:
      return 2;
    case v1::FLOAT32:
      return 4;
    default:
      return 0;
  }
}

absl::StatusOr<DecodedImage> DecodeRaw(const v1::RawPixels& raw, const DecodeLimits& limits) {
  const int bytes = BytesPerSample(raw.type());
  if (bytes == 0) return absl::InvalidArgumentError("raw image: unknown pixel type");
  if (raw.height() == 0 || raw.width() == 0) return absl::InvalidArgumentError("raw image: empty");
  if (raw.channels() != 1 && raw.channels() != 3) {
    return absl::InvalidArgumentError("raw image: channels must be 1 or 3");
  }
  const int64_t pixels = int64_t{raw.height()} * raw.width();
  if (pixels > limits.max_pixels) return absl::InvalidArgumentError("raw image: too many pixels");
  const int64_t samples = pixels * raw.channels();
  if (static_cast<int64_t>(raw.data().size()) != samples * bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw image: expected ", samples * bytes, " bytes, got ", raw.data().size()));
  }
  DecodedImage out;
  out.height = raw.height();
  out.width = raw.width();
  out.channels = raw.channels();
  out.format = "raw";
  out.bits_stored = raw.type() == v1::UINT8 ? 8 : (raw.type() == v1::FLOAT32 ? 32 : 16);
  out.pixels.resize(samples);
  const char* p = raw.data().data();
  float* dst = out.pixels.data();
  // One loop per sample type (little-endian host), so each vectorizes.
  auto convert = [&](auto sample) {
    using T = decltype(sample);
    for (int64_t i = 0; i < samples; ++i) {
      T v;
      std::memcpy(&v, p + sizeof(T) * i, sizeof(T));
      dst[i] = static_cast<float>(v);
    }
  };
  switch (raw.type()) {
    case v1::UINT8:
      convert(uint8_t{});
      break;
    case v1::UINT16:
      convert(uint16_t{});
      break;
    case v1::INT16:
      convert(int16_t{});
      break;
    default:
      convert(float{});
  }
  return out;
}

}  // namespace

std::optional<Window> RequestWindow(const v1::Image& image) {
  if (!image.has_window() || !(image.window().width() > 0)) return std::nullopt;
  return Window{image.window().center(), image.window().width()};
}

absl::StatusOr<PreparedImage> PrepareRequestImage(const Pipeline& pipeline,
                                                  const v1::Image& image) {
  switch (image.source_case()) {
    case v1::Image::kEncoded:
      return pipeline.PrepareImage(image.encoded(), image.format_hint(), RequestWindow(image),
                                   image.frame());
    case v1::Image::kRaw: {
      auto decoded = DecodeRaw(image.raw(), pipeline.limits());
      if (!decoded.ok()) return decoded.status();
      return pipeline.PrepareDecoded(*std::move(decoded), RequestWindow(image));
    }
    default:
      return absl::InvalidArgumentError("the request has no image");
  }
}

}  // namespace vlsm
