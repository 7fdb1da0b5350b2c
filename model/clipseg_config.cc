#include "model/clipseg_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

using json = nlohmann::json;

// Reads `key` into `out` when present; a present value of the wrong type is an error.
template <typename T>
absl::Status Read(const json& obj, const char* key, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  try {
    *out = it->get<T>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config.json: bad value for '", key, "'"));
  }
  return absl::OkStatus();
}

absl::Status ReadText(const json& obj, ClipSegTextConfig* c) {
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"vocab_size", &c->vocab_size},
           {"hidden_size", &c->hidden_size},
           {"intermediate_size", &c->intermediate_size},
           {"num_hidden_layers", &c->num_hidden_layers},
           {"num_attention_heads", &c->num_attention_heads},
           {"max_position_embeddings", &c->max_position_embeddings},
           {"pad_token_id", &c->pad_token_id},
           {"bos_token_id", &c->bos_token_id},
           {"eos_token_id", &c->eos_token_id}}) {
    if (auto s = Read(obj, key, field); !s.ok()) return s;
  }
  if (auto s = Read(obj, "hidden_act", &c->hidden_act); !s.ok()) return s;
  return Read(obj, "layer_norm_eps", &c->layer_norm_eps);
}

absl::Status ReadVision(const json& obj, ClipSegVisionConfig* c) {
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"hidden_size", &c->hidden_size},
           {"intermediate_size", &c->intermediate_size},
           {"num_hidden_layers", &c->num_hidden_layers},
           {"num_attention_heads", &c->num_attention_heads},
           {"num_channels", &c->num_channels},
           {"image_size", &c->image_size},
           {"patch_size", &c->patch_size}}) {
    if (auto s = Read(obj, key, field); !s.ok()) return s;
  }
  if (auto s = Read(obj, "hidden_act", &c->hidden_act); !s.ok()) return s;
  return Read(obj, "layer_norm_eps", &c->layer_norm_eps);
}

absl::Status Validate(const ClipSegConfig& c) {
  auto positive = [](int64_t v) { return v > 0; };
  for (int64_t v : {c.text.hidden_size, c.text.num_hidden_layers, c.text.num_attention_heads,
                    c.text.intermediate_size, c.text.vocab_size, c.text.max_position_embeddings,
                    c.vision.hidden_size, c.vision.num_hidden_layers, c.vision.num_attention_heads,
                    c.vision.intermediate_size, c.vision.image_size, c.vision.patch_size,
                    c.projection_dim, c.reduce_dim, c.decoder_num_attention_heads,
                    c.decoder_intermediate_size}) {
    if (!positive(v)) return absl::InvalidArgumentError("config.json: sizes must be positive");
  }
  if (c.text.hidden_size % c.text.num_attention_heads != 0 ||
      c.vision.hidden_size % c.vision.num_attention_heads != 0 ||
      c.reduce_dim % c.decoder_num_attention_heads != 0) {
    return absl::InvalidArgumentError("config.json: hidden size not divisible by the head count");
  }
  if (c.vision.num_channels != 3) {
    return absl::InvalidArgumentError("config.json: only 3-channel vision input is supported");
  }
  if (c.extract_layers.empty()) {
    return absl::InvalidArgumentError("config.json: extract_layers is empty");
  }
  for (int64_t k : c.extract_layers) {
    if (k < 0 || k >= c.vision.num_hidden_layers) {
      return absl::InvalidArgumentError(
          absl::StrCat("config.json: extract layer ", k, " outside the vision encoder (",
                       c.vision.num_hidden_layers, " layers)"));
    }
  }
  if (c.conditional_layer < 0 ||
      c.conditional_layer >= static_cast<int64_t>(c.extract_layers.size())) {
    return absl::InvalidArgumentError("config.json: conditional_layer out of range");
  }
  for (const std::string* act : {&c.text.hidden_act, &c.vision.hidden_act}) {
    if (*act != "quick_gelu" && *act != "gelu" && *act != "relu") {
      return absl::InvalidArgumentError(
          absl::StrCat("config.json: unsupported hidden_act '", *act, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t ClipSegConfig::vision_layers_needed() const {
  return *std::max_element(extract_layers.begin(), extract_layers.end()) + 1;
}

ClipSegConfig ClipSegConfig::Rd64Refined() {
  ClipSegConfig c;
  c.vision.image_size = 224;
  c.vision.patch_size = 16;
  c.use_complex_transposed_convolution = true;
  return c;
}

absl::StatusOr<ClipSegConfig> ParseClipSegConfig(absl::string_view json_text) {
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError("config.json is not a JSON object");
  }
  std::string model_type;
  if (auto s = Read(root, "model_type", &model_type); !s.ok()) return s;
  if (!model_type.empty() && model_type != "clipseg") {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: model_type '", model_type, "' is not clipseg"));
  }
  ClipSegConfig c;
  if (auto it = root.find("text_config"); it != root.end() && it->is_object()) {
    if (auto s = ReadText(*it, &c.text); !s.ok()) return s;
  }
  if (auto it = root.find("vision_config"); it != root.end() && it->is_object()) {
    if (auto s = ReadVision(*it, &c.vision); !s.ok()) return s;
  }
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"projection_dim", &c.projection_dim},
           {"reduce_dim", &c.reduce_dim},
           {"decoder_num_attention_heads", &c.decoder_num_attention_heads},
           {"decoder_intermediate_size", &c.decoder_intermediate_size},
           {"conditional_layer", &c.conditional_layer}}) {
    if (auto s = Read(root, key, field); !s.ok()) return s;
  }
  if (auto s = Read(root, "extract_layers", &c.extract_layers); !s.ok()) return s;
  if (auto s = Read(root, "use_complex_transposed_convolution",
                    &c.use_complex_transposed_convolution);
      !s.ok()) {
    return s;
  }
  if (auto s = Validate(c); !s.ok()) return s;
  return c;
}

absl::StatusOr<ClipSegConfig> LoadClipSegConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseClipSegConfig(ss.str());
}

}  // namespace vlsm
