// A CLIPSeg base model as named leaf tensors, for vlsm-train (internal to
// model/: includes torch).
//
// Holds exactly the tensors ClipSegModel reads, under their HF names, as
// leaves (requires_grad when trainable). View() builds a differentiable
// ClipSegModel over them (plain torch ops: ModelPlacement::trainable), cheap
// enough to rebuild every step, so gradients through the fused q/k/v reach
// the leaves. Save() writes an ordinary model directory's config.json and
// model.safetensors that Engine::Create loads.
//
// Ownership: owns its tensors. Threading: one thread at a time.
// Errors: absl::Status; InvalidArgument names a missing or mis-shaped tensor.
#ifndef VLSM_MODEL_TRAIN_MODEL_H_
#define VLSM_MODEL_TRAIN_MODEL_H_

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/clipseg_config.h"
#include "model/clipseg_model.h"

namespace vlsm {

class TrainModel {
 public:
  // The weights of <dir>/model.safetensors (copied; requires_grad = trainable).
  static absl::StatusOr<std::unique_ptr<TrainModel>> Load(const std::string& dir,
                                                          const torch::Device& device,
                                                          bool trainable);
  // Fresh trainable weights for `config` (PyTorch's default initialisation for
  // linear and conv weights, N(0, 0.02) embeddings, unit layer norms, zero
  // biases), seeded.
  static absl::StatusOr<std::unique_ptr<TrainModel>> Init(const ClipSegConfig& config,
                                                          uint64_t seed,
                                                          const torch::Device& device);

  // A differentiable forward over the current leaves.
  absl::StatusOr<std::unique_ptr<ClipSegModel>> View() const;

  const ClipSegConfig& config() const { return config_; }
  std::vector<torch::Tensor> parameters() const;
  int64_t num_parameters() const;
  // name -> leaf, in lookup order.
  const std::vector<std::pair<std::string, torch::Tensor>>& tensors() const { return tensors_; }

  // Writes config.json and model.safetensors (F32) into `dir`.
  absl::Status Save(const std::string& dir) const;

 private:
  TrainModel() = default;
  ClipSegConfig config_;
  torch::Device device_ = torch::kCPU;
  std::vector<std::pair<std::string, torch::Tensor>> tensors_;
  std::map<std::string, size_t> index_;
};

// One forward pass as the engine computes it: vision (dense V adapters),
// text (dense L), condition (C, shallow L), shallow V, decoder.
// pixels [N, 3, S, S]; input_ids [N, L] (anything after EOS is inert);
// adapter may be null. Returns logits [N, S, S].
torch::Tensor SegmentForward(const ClipSegModel& model, const AdapterWeights* adapter,
                             const torch::Tensor& pixels, const torch::Tensor& input_ids);

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAIN_MODEL_H_
