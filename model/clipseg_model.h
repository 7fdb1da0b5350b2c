// The frozen CLIPSeg of HF transformers (v4.41 CLIPSegForImageSegmentation,
// text prompts), as three stages the engine can batch independently:
// vision backbone -> extracted states, text -> conditional embedding,
// decoder -> logits. Internal to model/ (includes torch).
//
// Ownership: owns its weights (views into a mapped safetensors file stay
// valid because the lookup's tensors keep the file alive).
// Threading: immutable after Create; every method is const and may run on
// many threads at once.
// Errors: Create returns InvalidArgument naming a missing or mis-shaped
// tensor; the forward methods throw c10::Error on misuse (callers in model/
// catch it).
#ifndef VLSM_MODEL_CLIPSEG_MODEL_H_
#define VLSM_MODEL_CLIPSEG_MODEL_H_

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/adapter_weights.h"
#include "model/clipseg_config.h"
#include "model/layers.h"

namespace vlsm {

// Returns the named tensor (float32, CPU) or an error naming it. The
// expected shape lets a generator (benchmarks) make random weights; the
// loader checks every returned shape itself.
using TensorLookup = std::function<absl::StatusOr<torch::Tensor>(
    const std::string& name, const std::vector<int64_t>& expected_shape)>;

// Records intermediates by name (parity tests); may be null.
using Trace = std::function<void(const std::string& name, const torch::Tensor& value)>;

struct ModelPlacement {
  torch::Device device = torch::kCPU;
  // float32 everywhere, or bfloat16/float16 for the vision and text encoders'
  // matrix products (the decoder stays float32: ConvTranspose2d lacks bf16).
  torch::ScalarType compute_dtype = torch::kFloat;
  // Training (vlsm-train): plain differentiable torch ops only (no oneDNN
  // products, no no-grad loading), so gradients reach the looked-up tensors.
  bool trainable = false;
};

struct TextOutput {
  torch::Tensor projected;                 // [N, projection_dim]: text_projection(pooled)
  std::vector<torch::Tensor> extract_eos;  // raw text hidden_states[k+1] at EOS, per extract layer
};

class ClipSegModel {
 public:
  static absl::StatusOr<std::unique_ptr<ClipSegModel>> Create(const ClipSegConfig& config,
                                                              const TensorLookup& lookup,
                                                              const ModelPlacement& placement);

  const ClipSegConfig& config() const { return config_; }
  const ModelPlacement& placement() const { return placement_; }

  // pixels [N, 3, S, S] float32 (square, S a multiple of the patch size).
  // rows[i]: the dense adapter applied inside the encoder for row i, or null.
  // Returns hidden_states[k+1] for k in extract_layers (extract order), float32.
  std::vector<torch::Tensor> Vision(const torch::Tensor& pixels,
                                    const std::vector<const AdapterWeights*>& rows,
                                    const Trace* trace = nullptr) const;

  // input_ids [N, L] int64, every id inside the vocabulary (L covers every row's first EOS; later
  // positions cannot change the result under the causal mask); attention_mask [N, L] or undefined.
  // rows: dense adapters with text targets, or null.
  TextOutput Text(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                  const std::vector<const AdapterWeights*>& rows,
                  const Trace* trace = nullptr) const;

  // vlsm-adapter's conditional embedding: cond_adapter (C), then the shallow
  // L adapters' sums. rows may be null.
  torch::Tensor Condition(const TextOutput& text,
                          const std::vector<const AdapterWeights*>& rows) const;

  // Shallow V adapters on the extracted states (per row; null = unchanged).
  std::vector<torch::Tensor> AdaptExtracted(const std::vector<torch::Tensor>& extracted,
                                            const std::vector<const AdapterWeights*>& rows) const;

  // decoder.reduces applied to the extracted states, deepest first (the
  // FiLM-independent part of the decoder, shareable between prompts).
  std::vector<torch::Tensor> Reduce(const std::vector<torch::Tensor>& extracted) const;

  // reduced: output of Reduce gathered per row; cond [N, projection_dim].
  // Returns logits [N, S, S] float32.
  torch::Tensor Decode(const std::vector<torch::Tensor>& reduced, const torch::Tensor& cond,
                       const Trace* trace = nullptr) const;

  // Position table for a g x g patch grid (HF's bicubic interpolation).
  torch::Tensor PositionEmbedding(int64_t grid) const;

 private:
  ClipSegModel() = default;
  absl::Status Load(const TensorLookup& lookup);
  torch::Tensor EncoderLayerForward(const TransformerLayer& layer, const torch::Tensor& x,
                                    const torch::Tensor& mask, const AdapterMlp* const* attn_rows,
                                    const AdapterMlp* const* out_rows, int64_t n) const;

  ClipSegConfig config_;
  ModelPlacement placement_;

  // Vision.
  torch::Tensor patch_weight_, class_embedding_, vision_positions_;
  LayerNorm pre_layernorm_;
  std::vector<TransformerLayer> vision_layers_;  // only the layers the logits need
  // Text.
  torch::Tensor token_embedding_, text_positions_, text_projection_;
  std::vector<TransformerLayer> text_layers_;
  LayerNorm final_layernorm_;
  // Decoder (float32).
  Linear film_mul_, film_add_;
  std::vector<Linear> reduces_;
  std::vector<TransformerLayer> decoder_layers_;
  std::vector<torch::Tensor> conv_weights_, conv_biases_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_CLIPSEG_MODEL_H_
