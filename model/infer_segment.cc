#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/cli_inputs.h"
#include "model/clipseg_config.h"
#include "model/image_input.h"
#include "model/infer_commands.h"
#include "model/mask.h"
#include "model/pipeline.h"
#include "model/preprocess.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, adapter);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(std::string, dtype);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(double, threshold);
ABSL_DECLARE_FLAG(std::string, mask_resize);
ABSL_DECLARE_FLAG(int, frame);
ABSL_DECLARE_FLAG(double, window_center);
ABSL_DECLARE_FLAG(double, window_width);

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

absl::StatusOr<std::unique_ptr<Pipeline>> LoadPipeline() {
  if (absl::GetFlag(FLAGS_model).empty()) return absl::InvalidArgumentError("--model is required");
  EngineOptions options;
  options.device = absl::GetFlag(FLAGS_device);
  options.dtype = absl::GetFlag(FLAGS_dtype);
  options.num_threads = absl::GetFlag(FLAGS_threads);
  return Pipeline::Create(absl::GetFlag(FLAGS_model), options);
}

std::optional<Window> RequestWindow() {
  if (absl::GetFlag(FLAGS_window_width) <= 0) return std::nullopt;
  return Window{absl::GetFlag(FLAGS_window_center), absl::GetFlag(FLAGS_window_width)};
}

void Progress(size_t done, size_t total) {
  if (total < 2 || !isatty(STDERR_FILENO)) return;
  const int width = 30;
  const int filled = static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

absl::Status WriteBytes(const std::string& path, const std::string& bytes) {
  return WriteFileAtomically(path, bytes);
}

}  // namespace

absl::Status RunSegment(const std::vector<std::string>& prompt_flags,
                        const std::vector<std::string>& inputs) {
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  if (out_dir.empty() || inputs.empty()) {
    return absl::InvalidArgumentError("segment needs --out DIR and at least one input");
  }
  auto pipeline = LoadPipeline();
  if (!pipeline.ok()) return pipeline.status();
  std::shared_ptr<const Adapter> adapter;
  std::vector<std::string> prompts = prompt_flags;
  float threshold = 0.5f;
  if (!absl::GetFlag(FLAGS_adapter).empty()) {
    auto a = (*pipeline)->engine().LoadAdapter(absl::GetFlag(FLAGS_adapter));
    if (!a.ok()) return a.status();
    adapter = *a;
    threshold = adapter->metadata().threshold;
    if (prompts.empty()) prompts = adapter->metadata().prompts;
  }
  if (absl::GetFlag(FLAGS_threshold) > 0) threshold = absl::GetFlag(FLAGS_threshold);
  if (prompts.empty()) return absl::InvalidArgumentError("give at least one --prompt");
  const MaskResize resize = absl::GetFlag(FLAGS_mask_resize) == "nearest"
                                ? MaskResize::kNearestExact
                                : MaskResize::kBilinearLogits;
  std::vector<Prompt> encoded;
  for (const auto& p : prompts) {
    auto e = (*pipeline)->EncodePrompt(p);
    if (!e.ok()) return e.status();
    encoded.push_back(*std::move(e));
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", out_dir));

  const auto files = ExpandInputFiles(inputs);
  size_t masks = 0, failed = 0;
  double total_ms = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto t0 = Clock::now();
    auto status = [&]() -> absl::Status {
      auto bytes = ReadFileToString(files[i]);
      if (!bytes.ok()) return bytes.status();
      auto image = (*pipeline)->PrepareImage(*bytes, "", RequestWindow(), absl::GetFlag(FLAGS_frame));
      if (!image.ok()) return image.status();
      std::vector<SegmentQuery> queries;
      for (const Prompt& p : encoded) queries.push_back({0, p, adapter});
      auto logits = (*pipeline)->engine().Segment({image->pixel_values}, queries);
      if (!logits.ok()) return logits.status();
      const auto rgb = ToRgb8(image->decoded, RequestWindow());
      const std::string stem = fs::path(files[i]).stem().string();
      for (size_t k = 0; k < prompts.size(); ++k) {
        auto mask = (*pipeline)->Mask((*logits)[k], image->decoded, threshold, resize);
        const int64_t h = image->decoded.height, w = image->decoded.width;
        auto png = EncodeMaskPng(mask, h, w);
        if (!png.ok()) return png.status();
        auto overlay = RenderOverlayPng(rgb, h, w, mask, prompts[k]);
        if (!overlay.ok()) return overlay.status();
        const std::string base = absl::StrCat(out_dir, "/", stem, "_p", k);
        if (auto s = WriteBytes(base + "_mask.png", *png); !s.ok()) return s;
        if (auto s = WriteBytes(base + "_overlay.png", *overlay); !s.ok()) return s;
        ++masks;
      }
      return absl::OkStatus();
    }();
    total_ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!status.ok()) {
      ++failed;
      std::cerr << (isatty(STDERR_FILENO) ? "\n" : "") << files[i] << ": " << status << "\n";
    }
    Progress(i + 1, files.size());
  }
  std::cout << absl::StrFormat(
                   "segmented %zu of %zu inputs: %zu masks in %s (%.0f ms per input)%s\n",
                   files.size() - failed, files.size(), masks, out_dir,
                   files.empty() ? 0.0 : total_ms / files.size(),
                   failed ? absl::StrCat(", ", failed, " failed") : "");
  return failed == files.size() ? absl::InvalidArgumentError("no input could be segmented")
                                : absl::OkStatus();
}

absl::Status RunTokenize() {
  if (absl::GetFlag(FLAGS_model).empty()) return absl::InvalidArgumentError("--model is required");
  // Only the tokenizer is needed; max length from the model's config.
  auto config = LoadClipSegConfig(absl::GetFlag(FLAGS_model) + "/config.json");
  if (!config.ok()) return config.status();
  auto tokenizer = LoadTokenizer(absl::GetFlag(FLAGS_model), config->text.max_position_embeddings);
  if (!tokenizer.ok()) return tokenizer.status();
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": expected {\"text\": ...}"));
    }
    const std::string text = j["text"].get<std::string>();
    auto encoded = (*tokenizer)->Encode(text);
    if (!encoded.ok()) return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ",
                                                                       encoded.status().message()));
    nlohmann::ordered_json out = {{"text", text},
                          {"input_ids", encoded->input_ids},
                          {"attention_mask", encoded->attention_mask}};
    std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunDecode(const std::string& input) {
  if (absl::GetFlag(FLAGS_model).empty() || absl::GetFlag(FLAGS_out).empty()) {
    return absl::InvalidArgumentError("decode needs --model DIR and --out OUT.safetensors");
  }
  auto preprocess = LoadPreprocessConfig(absl::GetFlag(FLAGS_model));
  if (!preprocess.ok()) return preprocess.status();
  auto bytes = ReadFileToString(input);
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeAnyImage(*bytes, DecodeLimits{}, "", absl::GetFlag(FLAGS_frame));
  if (!decoded.ok()) return decoded.status();
  auto pixels = Preprocess(*decoded, *preprocess, RequestWindow());
  if (!pixels.ok()) return pixels.status();
  std::vector<TensorView> views = {
      {"image", DType::kF32, {decoded->height, decoded->width, decoded->channels},
       decoded->pixels.data(), decoded->pixels.size() * sizeof(float)},
      {"pixel_values", DType::kF32, pixels->shape, pixels->data.data(),
       pixels->data.size() * sizeof(float)}};
  std::map<std::string, std::string> metadata = {
      {"format", decoded->format},
      {"bits_stored", std::to_string(decoded->bits_stored)},
      {"monochrome1", decoded->monochrome1 ? "true" : "false"}};
  if (decoded->file_window) {
    metadata["window"] = absl::StrCat(decoded->file_window->center, ",", decoded->file_window->width);
  }
  auto out = SerializeSafetensors(views, metadata);
  if (!out.ok()) return out.status();
  return WriteFileAtomically(absl::GetFlag(FLAGS_out), *out);
}

}  // namespace vlsm
