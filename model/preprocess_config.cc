// LoadPreprocessConfig / ParsePreprocessConfig (declared in preprocess.h).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/preprocess.h"

namespace vlsm {
namespace {

using nlohmann::json;

absl::Status Bad(absl::string_view key, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("preprocessor_config.json: '", key, "' must be ", want));
}

absl::Status ReadSize(const json& j, const char* key, int64_t* out) {
  if (!j.is_number_integer() || j.get<int64_t>() < 1 || j.get<int64_t>() > (1 << 14)) {
    return Bad(key, "an integer in 1..16384");
  }
  *out = j.get<int64_t>();
  return absl::OkStatus();
}

absl::Status ReadBool(const json& root, const char* key, bool* out) {
  if (!root.contains(key)) return absl::OkStatus();
  if (!root[key].is_boolean()) return Bad(key, "a boolean");
  *out = root[key].get<bool>();
  return absl::OkStatus();
}

// image_mean / image_std: three numbers, or one number for all channels.
absl::Status ReadTriple(const json& root, const char* key, std::array<float, 3>* out) {
  if (!root.contains(key)) return absl::OkStatus();
  const json& j = root[key];
  if (j.is_number()) {
    out->fill(j.get<float>());
    return absl::OkStatus();
  }
  if (!j.is_array() || j.size() != 3) return Bad(key, "a list of 3 numbers");
  for (size_t i = 0; i < 3; ++i) {
    if (!j[i].is_number()) return Bad(key, "a list of 3 numbers");
    (*out)[i] = j[i].get<float>();
  }
  return absl::OkStatus();
}

absl::Status ReadSizes(const json& size, PreprocessConfig* c) {
  if (size.is_number_integer()) {
    if (absl::Status s = ReadSize(size, "size", &c->height); !s.ok()) return s;
    c->width = c->height;
    return absl::OkStatus();
  }
  if (size.is_object() && size.contains("height") && size.contains("width")) {
    if (absl::Status s = ReadSize(size["height"], "size.height", &c->height); !s.ok()) return s;
    return ReadSize(size["width"], "size.width", &c->width);
  }
  if (size.is_object() && size.contains("shortest_edge")) {
    if (absl::Status s = ReadSize(size["shortest_edge"], "size.shortest_edge", &c->height);
        !s.ok()) {
      return s;
    }
    c->width = c->height;
    return absl::OkStatus();
  }
  return Bad("size", "an integer, {height, width} or {shortest_edge}");
}

absl::Status CheckProcessorType(const json& root) {
  for (const char* key : {"feature_extractor_type", "image_processor_type"}) {
    if (!root.contains(key)) continue;
    if (!root[key].is_string()) return Bad(key, "a string");
    const std::string type = root[key].get<std::string>();
    if (!absl::StartsWith(type, "ViT")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "preprocessor_config.json: ", key, " '", type,
          "' is not supported (CLIPSeg uses ViTFeatureExtractor / ViTImageProcessor)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PreprocessConfig> ParseJson(const json& root) {
  if (!root.is_object())
    return absl::InvalidArgumentError("preprocessor_config.json: not an object");
  PreprocessConfig c;
  if (absl::Status s = CheckProcessorType(root); !s.ok()) return s;
  if (root.contains("size")) {
    if (absl::Status s = ReadSizes(root["size"], &c); !s.ok()) return s;
  }
  bool center_crop = false;
  for (auto [key, field] :
       {std::pair{"do_resize", &c.do_resize}, std::pair{"do_rescale", &c.do_rescale},
        std::pair{"do_normalize", &c.do_normalize}, std::pair{"do_center_crop", &center_crop}}) {
    if (absl::Status s = ReadBool(root, key, field); !s.ok()) return s;
  }
  if (center_crop) {
    return absl::InvalidArgumentError("preprocessor_config.json: do_center_crop is not supported");
  }
  if (root.contains("resample")) {
    if (!root["resample"].is_number_integer()) return Bad("resample", "an integer");
    c.resample = root["resample"].get<int>();
    if (c.resample != 2) {
      return absl::UnimplementedError(
          absl::StrCat("preprocessor_config.json: resample ", c.resample, " (only 2, BILINEAR)"));
    }
  }
  if (root.contains("rescale_factor")) {
    if (!root["rescale_factor"].is_number()) return Bad("rescale_factor", "a number");
    c.rescale_factor = root["rescale_factor"].get<double>();
  }
  if (absl::Status s = ReadTriple(root, "image_mean", &c.mean); !s.ok()) return s;
  if (absl::Status s = ReadTriple(root, "image_std", &c.std); !s.ok()) return s;
  for (float s : c.std) {
    if (!(s != 0 && std::isfinite(s))) return Bad("image_std", "finite and non-zero");
  }
  return c;
}

}  // namespace

absl::StatusOr<PreprocessConfig> ParsePreprocessConfig(absl::string_view json_text) {
  try {
    const json root = json::parse(json_text.begin(), json_text.end(), nullptr,
                                  /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      return absl::InvalidArgumentError("preprocessor_config.json: malformed JSON");
    }
    return ParseJson(root);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("preprocessor_config.json: ", e.what()));
  }
}

absl::StatusOr<PreprocessConfig> LoadPreprocessConfig(const std::string& model_dir) {
  const std::string path = model_dir + "/preprocessor_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return PreprocessConfig{};
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || ec) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  absl::StatusOr<PreprocessConfig> c = ParsePreprocessConfig(text.str());
  if (!c.ok()) {
    return absl::Status(c.status().code(), absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}

}  // namespace vlsm
