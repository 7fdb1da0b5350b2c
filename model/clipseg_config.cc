#include "model/clipseg_config.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

using json = nlohmann::json;

// Reads `key` of `section` into `out` when present; a present value of the
// wrong type (including a fraction where an integer is expected) is an error.
absl::Status TypeError(const std::string& section, const char* key, const char* expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: '", section, key, "' must be ", expected));
}

absl::Status Read(const json& obj, const std::string& section, const char* key, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number_integer()) return TypeError(section, key, "an integer");
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::Status Read(const json& obj, const std::string& section, const char* key, double* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) return TypeError(section, key, "a number");
  *out = it->get<double>();
  return absl::OkStatus();
}

absl::Status Read(const json& obj, const std::string& section, const char* key, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return TypeError(section, key, "true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status Read(const json& obj, const std::string& section, const char* key,
                  std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return TypeError(section, key, "a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status Read(const json& obj, const std::string& section, const char* key,
                  std::vector<int64_t>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return TypeError(section, key, "a list of integers");
  std::vector<int64_t> values;
  for (const auto& e : *it) {
    if (!e.is_number_integer()) return TypeError(section, key, "a list of integers");
    values.push_back(e.get<int64_t>());
  }
  *out = std::move(values);
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
    if (auto s = Read(obj, "text_config.", key, field); !s.ok()) return s;
  }
  if (auto s = Read(obj, "text_config.", "hidden_act", &c->hidden_act); !s.ok()) return s;
  return Read(obj, "text_config.", "layer_norm_eps", &c->layer_norm_eps);
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
    if (auto s = Read(obj, "vision_config.", key, field); !s.ok()) return s;
  }
  if (auto s = Read(obj, "vision_config.", "hidden_act", &c->hidden_act); !s.ok()) return s;
  return Read(obj, "vision_config.", "layer_norm_eps", &c->layer_norm_eps);
}

absl::Status Validate(const ClipSegConfig& c) {
  constexpr int64_t kMaxSize = int64_t{1} << 20;  // far above any CLIPSeg, keeps products sane
  for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"text_config.hidden_size", c.text.hidden_size},
           {"text_config.num_hidden_layers", c.text.num_hidden_layers},
           {"text_config.num_attention_heads", c.text.num_attention_heads},
           {"text_config.intermediate_size", c.text.intermediate_size},
           {"text_config.vocab_size", c.text.vocab_size},
           {"text_config.max_position_embeddings", c.text.max_position_embeddings},
           {"vision_config.hidden_size", c.vision.hidden_size},
           {"vision_config.num_hidden_layers", c.vision.num_hidden_layers},
           {"vision_config.num_attention_heads", c.vision.num_attention_heads},
           {"vision_config.intermediate_size", c.vision.intermediate_size},
           {"vision_config.image_size", c.vision.image_size},
           {"vision_config.patch_size", c.vision.patch_size},
           {"projection_dim", c.projection_dim},
           {"reduce_dim", c.reduce_dim},
           {"decoder_num_attention_heads", c.decoder_num_attention_heads},
           {"decoder_intermediate_size", c.decoder_intermediate_size}}) {
    if (v <= 0 || v > kMaxSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("config.json: '", name, "' = ", v, " must be in 1..", kMaxSize));
    }
  }
  if (!(c.text.layer_norm_eps > 0) || !(c.vision.layer_norm_eps > 0)) {
    return absl::InvalidArgumentError("config.json: layer_norm_eps must be positive");
  }
  if (c.vision.image_size % c.vision.patch_size != 0) {
    return absl::InvalidArgumentError(
        "config.json: vision image_size must be a multiple of patch_size");
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
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: conditional_layer ", c.conditional_layer, " outside 0..",
                     c.extract_layers.size() - 1));
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
  if (auto s = Read(root, "", "model_type", &model_type); !s.ok()) return s;
  if (!model_type.empty() && model_type != "clipseg") {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: model_type '", model_type, "' is not clipseg"));
  }
  ClipSegConfig c;
  for (const char* section : {"text_config", "vision_config"}) {
    auto it = root.find(section);
    if (it == root.end() || it->is_null()) continue;
    if (!it->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("config.json: '", section,
                                                     "' must be an object"));
    }
    auto s = std::string(section) == "text_config" ? ReadText(*it, &c.text)
                                                   : ReadVision(*it, &c.vision);
    if (!s.ok()) return s;
  }
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"projection_dim", &c.projection_dim},
           {"reduce_dim", &c.reduce_dim},
           {"decoder_num_attention_heads", &c.decoder_num_attention_heads},
           {"decoder_intermediate_size", &c.decoder_intermediate_size},
           {"conditional_layer", &c.conditional_layer}}) {
    if (auto s = Read(root, "", key, field); !s.ok()) return s;
  }
  if (auto s = Read(root, "", "extract_layers", &c.extract_layers); !s.ok()) return s;
  if (auto s = Read(root, "", "use_complex_transposed_convolution",
                    &c.use_complex_transposed_convolution);
      !s.ok()) {
    return s;
  }
  if (auto s = Validate(c); !s.ok()) return s;
  return c;
}

std::string ClipSegConfigToJson(const ClipSegConfig& c) {
  json text = {{"model_type", "clipseg_text_model"},
               {"vocab_size", c.text.vocab_size},
               {"hidden_size", c.text.hidden_size},
               {"intermediate_size", c.text.intermediate_size},
               {"num_hidden_layers", c.text.num_hidden_layers},
               {"num_attention_heads", c.text.num_attention_heads},
               {"max_position_embeddings", c.text.max_position_embeddings},
               {"hidden_act", c.text.hidden_act},
               {"layer_norm_eps", c.text.layer_norm_eps},
               {"pad_token_id", c.text.pad_token_id},
               {"bos_token_id", c.text.bos_token_id},
               {"eos_token_id", c.text.eos_token_id}};
  json vision = {{"model_type", "clipseg_vision_model"},
                 {"hidden_size", c.vision.hidden_size},
                 {"intermediate_size", c.vision.intermediate_size},
                 {"num_hidden_layers", c.vision.num_hidden_layers},
                 {"num_attention_heads", c.vision.num_attention_heads},
                 {"num_channels", c.vision.num_channels},
                 {"image_size", c.vision.image_size},
                 {"patch_size", c.vision.patch_size},
                 {"hidden_act", c.vision.hidden_act},
                 {"layer_norm_eps", c.vision.layer_norm_eps}};
  json root = {{"architectures", {"CLIPSegForImageSegmentation"}},
               {"model_type", "clipseg"},
               {"text_config", text},
               {"vision_config", vision},
               {"projection_dim", c.projection_dim},
               {"extract_layers", c.extract_layers},
               {"reduce_dim", c.reduce_dim},
               {"decoder_num_attention_heads", c.decoder_num_attention_heads},
               {"decoder_intermediate_size", c.decoder_intermediate_size},
               {"decoder_hidden_act", "quick_gelu"},
               {"conditional_layer", c.conditional_layer},
               {"use_complex_transposed_convolution", c.use_complex_transposed_convolution},
               {"torch_dtype", "float32"}};
  return root.dump(2) + "\n";
}

absl::StatusOr<ClipSegConfig> LoadClipSegConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseClipSegConfig(*text);
}

}  // namespace vlsm
