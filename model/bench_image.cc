// vlsm-bench image --image FILE [--model DIR | --size S] [--repeats R]
//
// Times the per-request CPU work around the engine, stage by stage, as the
// server does it for an encoded image and a PNG mask at the original size:
//   decode      DecodeImage (codec, colour conversion, limits)
//   to_rgb8     ToRgb8 (values to 8-bit RGB)
//   resize      ResizeBilinearPil to the model's input size
//   preprocess  the whole Preprocess (the two above plus rescale/normalize)
//   mask        ResizeLogitsBilinear to the original size + Threshold
//   png, rle    EncodeMaskPng / EncodeCocoRle of that mask
// and prints one JSON line with the median milliseconds of each and
// `request_ms` = decode + preprocess + mask + png. The logits are a smooth
// disc, so the mask compresses like a real one.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "model/image_decode.h"
#include "model/mask.h"
#include "model/preprocess.h"
#include "nlohmann/json.hpp"

// Shared with `vlsm-bench engine` (bench_main.cc).
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(int, repeats);
ABSL_DECLARE_FLAG(int, size);
ABSL_FLAG(std::string, image, "",
          "image, serve: image file (image: required, e.g. examples/polyp_1.png; serve: default a "
          "synthetic 352x352 PNG)");

namespace vlsm {
namespace {

using Clock = std::chrono::steady_clock;

// Median milliseconds of `repeats` calls of fn.
template <typename Fn>
double MedianMs(int repeats, Fn&& fn) {
  std::vector<double> ms;
  ms.reserve(repeats);
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// Logits of a disc covering about a fifth of the image, smooth at its edge.
HostTensor DiscLogits(int64_t side) {
  HostTensor logits;
  logits.shape = {side, side};
  logits.data.resize(side * side);
  for (int64_t y = 0; y < side; ++y) {
    for (int64_t x = 0; x < side; ++x) {
      const double r = std::hypot(x - 0.45 * side, y - 0.55 * side) / side;
      logits.data[y * side + x] = static_cast<float>(20.0 * (0.25 - r));
    }
  }
  return logits;
}

}  // namespace

int RunImageBench() {
  const std::string path = absl::GetFlag(FLAGS_image);
  std::ifstream in(path, std::ios::binary);
  if (path.empty() || !in) {
    std::cerr << "vlsm-bench image: give a readable --image FILE\n";
    return 2;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();

  PreprocessConfig config;
  if (!absl::GetFlag(FLAGS_model).empty()) {
    auto loaded = LoadPreprocessConfig(absl::GetFlag(FLAGS_model));
    if (!loaded.ok()) {
      std::cerr << "vlsm-bench image: " << loaded.status() << "\n";
      return 1;
    }
    config = *loaded;
  } else {
    config.height = config.width = absl::GetFlag(FLAGS_size);
  }
  const int repeats = std::max(1, absl::GetFlag(FLAGS_repeats));

  auto decoded = DecodeImage(bytes, DecodeLimits{});
  if (!decoded.ok()) {
    std::cerr << "vlsm-bench image: " << decoded.status() << "\n";
    return 1;
  }
  const int64_t h = decoded->height, w = decoded->width;
  const std::vector<uint8_t> rgb = ToRgb8(*decoded, std::nullopt);
  const HostTensor logits = DiscLogits(config.height);
  const std::vector<uint8_t> mask = Threshold(ResizeLogitsBilinear(logits, h, w), 0.5f);
  const auto png = EncodeMaskPng(mask, h, w);

  std::map<std::string, double> ms;
  ms["decode"] = MedianMs(repeats, [&] { (void)DecodeImage(bytes, DecodeLimits{}); });
  ms["to_rgb8"] = MedianMs(repeats, [&] { (void)ToRgb8(*decoded, std::nullopt); });
  ms["resize"] = MedianMs(
      repeats, [&] { (void)ResizeBilinearPil(rgb.data(), h, w, 3, config.height, config.width); });
  ms["preprocess"] = MedianMs(repeats, [&] { (void)Preprocess(*decoded, config, std::nullopt); });
  ms["mask"] =
      MedianMs(repeats, [&] { (void)Threshold(ResizeLogitsBilinear(logits, h, w), 0.5f); });
  ms["png"] = MedianMs(repeats, [&] { (void)EncodeMaskPng(mask, h, w); });
  ms["rle"] = MedianMs(repeats, [&] { (void)EncodeCocoRle(mask, h, w); });

  const nlohmann::json out = {
      {"benchmark", "image"},
      {"image", path},
      {"image_bytes", bytes.size()},
      {"image_size", {h, w, decoded->channels}},
      {"model_input", {config.height, config.width}},
      {"repeats", repeats},
      {"mask_png_bytes", png.ok() ? png->size() : 0},
      {"stages_ms", ms},
      {"request_ms", ms["decode"] + ms["preprocess"] + ms["mask"] + ms["png"]},
  };
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace vlsm
