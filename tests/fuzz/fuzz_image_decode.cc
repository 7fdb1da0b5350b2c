// libFuzzer target: the OpenCV-based decoder and the preprocessing on
// arbitrary bytes: a status or an image, never a crash or a huge allocation.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/image_decode.h"
#include "model/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vlsm::DecodeLimits limits;
  limits.max_pixels = 4 << 20;  // keep each run small
  auto image = vlsm::DecodeImage(std::string(reinterpret_cast<const char*>(data), size), limits);
  if (!image.ok()) return 0;
  if (image->height * image->width > limits.max_pixels) std::abort();
  if (static_cast<int64_t>(image->pixels.size()) != image->height * image->width * image->channels) {
    std::abort();
  }
  vlsm::PreprocessConfig config;
  config.height = config.width = 64;
  auto pixels = vlsm::Preprocess(*image, config, std::nullopt);
  if (!pixels.ok()) std::abort();  // a decoded image always preprocesses
  return 0;
}
