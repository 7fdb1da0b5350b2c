// CLIPSeg architecture description, read from an HF `config.json`.
//
// Hub configs only list values that differ from the class defaults
// (save_pretrained's use_diff), so every missing key falls back to the
// defaults of transformers' CLIPSegConfig / CLIPSegTextConfig /
// CLIPSegVisionConfig (v4.41).
// Threading: plain value type.
#ifndef VLSM_MODEL_CLIPSEG_CONFIG_H_
#define VLSM_MODEL_CLIPSEG_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

struct ClipSegTextConfig {
  int64_t vocab_size = 49408;
  int64_t hidden_size = 512;
  int64_t intermediate_size = 2048;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 8;
  int64_t max_position_embeddings = 77;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;
  int64_t pad_token_id = 1;
  int64_t bos_token_id = 49406;
  int64_t eos_token_id = 49407;
};

struct ClipSegVisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;
};

struct ClipSegConfig {
  ClipSegTextConfig text;
  ClipSegVisionConfig vision;
  int64_t projection_dim = 512;
  std::vector<int64_t> extract_layers = {3, 6, 9};
  int64_t reduce_dim = 64;
  int64_t decoder_num_attention_heads = 4;
  int64_t decoder_intermediate_size = 2048;
  int64_t conditional_layer = 0;
  bool use_complex_transposed_convolution = false;

  // Vision layers that can influence the logits: 0..max(extract_layers).
  int64_t vision_layers_needed() const;

  // The `CIDAS/clipseg-rd64-refined` architecture (benchmarks build it with
  // random weights).
  static ClipSegConfig Rd64Refined();
};

// Parses config.json text; fills defaults; validates consistency (head
// divisibility, extract layers inside the encoder, supported activations).
absl::StatusOr<ClipSegConfig> ParseClipSegConfig(absl::string_view json_text);
absl::StatusOr<ClipSegConfig> LoadClipSegConfig(const std::string& path);

// config.json text as transformers' save_pretrained would write it (every
// architecture key, model_type "clipseg"); ParseClipSegConfig reads it back.
std::string ClipSegConfigToJson(const ClipSegConfig& config);

}  // namespace vlsm

#endif  // VLSM_MODEL_CLIPSEG_CONFIG_H_
