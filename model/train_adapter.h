// A VLSM-Adapter weight set under training (internal to model/: includes
// torch): AdapterWeights whose AdapterMlp fields are leaf tensors, created
// for a variant and dim, and serialized to our adapter .safetensors format
// (tensor names and __metadata__ keys of model/adapter.h) that
// Engine::LoadAdapter reads back.
//
// Ownership: owns its tensors. Threading: one thread at a time.
// Errors: absl::Status; InvalidArgument for an unknown variant or a variant
// the base architecture cannot take (e.g. shallow L needs text hidden size ==
// projection_dim).
#ifndef VLSM_MODEL_TRAIN_ADAPTER_H_
#define VLSM_MODEL_TRAIN_ADAPTER_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/adapter.h"
#include "model/adapter_weights.h"
#include "model/clipseg_config.h"

namespace vlsm {

// "shallow_v", "shallow_vl", "shallow_vlc", "dense_v", "dense_vl", "dense_vlc".
absl::StatusOr<AdapterSpec> ParseAdapterVariant(const std::string& variant, int64_t adapter_dim);

// What goes into the file's __metadata__ besides the spec.
struct AdapterFileInfo {
  std::string task;
  std::vector<std::string> prompts;
  float threshold = 0.5f;
  std::string base_model;
  std::string base_fingerprint;
  std::string source = "vlsm-train";
};

class TrainAdapter {
 public:
  // Seeded PyTorch nn.Linear default initialisation, as vlsm-adapter's
  // Adapter modules start.
  static absl::StatusOr<std::unique_ptr<TrainAdapter>> Init(const AdapterSpec& spec,
                                                            const ClipSegConfig& config,
                                                            uint64_t seed,
                                                            const torch::Device& device);

  const AdapterSpec& spec() const { return spec_; }
  const AdapterWeights& weights() const { return weights_; }
  // name -> leaf, in file order.
  const std::vector<std::pair<std::string, torch::Tensor>>& tensors() const { return tensors_; }
  std::vector<torch::Tensor> parameters() const;
  int64_t num_parameters() const;

  // The adapter file's bytes.
  absl::StatusOr<std::string> Serialize(const AdapterFileInfo& info) const;

 private:
  TrainAdapter() = default;
  AdapterMlp NewMlp(const std::string& prefix, int64_t width, int64_t dim,
                    const torch::Device& device);

  AdapterSpec spec_;
  AdapterWeights weights_;
  std::vector<std::pair<std::string, torch::Tensor>> tensors_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAIN_ADAPTER_H_
