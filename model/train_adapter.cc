#include "model/train_adapter.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/safetensors.h"
#include "model/torch_util.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

torch::Tensor Uniform(std::vector<int64_t> shape, int64_t fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return torch::rand(shape) * (2 * bound) - bound;
}

}  // namespace

absl::StatusOr<AdapterSpec> ParseAdapterVariant(const std::string& variant, int64_t adapter_dim) {
  AdapterSpec spec;
  std::string targets;
  if (variant.rfind("shallow_", 0) == 0) {
    targets = variant.substr(8);
  } else if (variant.rfind("dense_", 0) == 0) {
    spec.dense = true;
    targets = variant.substr(6);
  }
  if (targets != "v" && targets != "vl" && targets != "vlc") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown adapter variant '", variant,
                     "' (shallow_v, shallow_vl, shallow_vlc, dense_v, dense_vl, dense_vlc)"));
  }
  if (adapter_dim < 1) {
    return absl::InvalidArgumentError(absl::StrCat("adapter_dim must be >= 1, got ", adapter_dim));
  }
  spec.vision = true;
  spec.text = targets.size() >= 2;
  spec.cond = targets.size() == 3;
  spec.adapter_dim = adapter_dim;
  spec.cond_adapter_dim = spec.cond ? adapter_dim : 0;
  return spec;
}

AdapterMlp TrainAdapter::NewMlp(const std::string& prefix, int64_t width, int64_t dim,
                                const torch::Device& device) {
  AdapterMlp m;
  m.fc1_w = Uniform({dim, width}, width).to(device).set_requires_grad(true);
  m.fc1_b = Uniform({dim}, width).to(device).set_requires_grad(true);
  m.fc2_w = Uniform({width, dim}, dim).to(device).set_requires_grad(true);
  m.fc2_b = Uniform({width}, dim).to(device).set_requires_grad(true);
  m.onednn = false;  // plain differentiable products
  tensors_.emplace_back(prefix + ".fc1.weight", m.fc1_w);
  tensors_.emplace_back(prefix + ".fc1.bias", m.fc1_b);
  tensors_.emplace_back(prefix + ".fc2.weight", m.fc2_w);
  tensors_.emplace_back(prefix + ".fc2.bias", m.fc2_b);
  return m;
}

absl::StatusOr<std::unique_ptr<TrainAdapter>> TrainAdapter::Init(const AdapterSpec& spec,
                                                                 const ClipSegConfig& config,
                                                                 uint64_t seed,
                                                                 const torch::Device& device) {
  const size_t n_extract = config.extract_layers.size();
  const int64_t deepest = config.vision_layers_needed() - 1;
  if (!spec.dense && spec.text) {
    if (config.text.hidden_size != config.projection_dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("shallow L adapters need text hidden_size (", config.text.hidden_size,
                       ") == projection_dim (", config.projection_dim, ")"));
    }
    if (config.text.num_hidden_layers < deepest + 1) {
      return absl::InvalidArgumentError(
          "shallow L adapters need text layers up to the deepest extract layer");
    }
  }
  if (spec.dense && deepest < 1) {
    return absl::InvalidArgumentError("dense adapters need an extract layer above layer 0");
  }
  std::unique_ptr<TrainAdapter> a(new TrainAdapter());
  a->spec_ = spec;
  AdapterWeights& w = a->weights_;
  w.dense = spec.dense;
  w.vision = spec.vision;
  w.text = spec.text;
  w.cond = spec.cond;
  try {
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    const int64_t r = spec.adapter_dim;
    const int64_t dv = config.vision.hidden_size, dt = config.text.hidden_size;
    if (!spec.dense) {
      for (size_t i = 0; i < n_extract; ++i) {
        w.vision_extract.push_back(
            a->NewMlp(absl::StrCat("vision_extract_adapters.", i), dv, r, device));
      }
      if (spec.text) {
        for (size_t i = 0; i < n_extract; ++i) {
          w.text_extract.push_back(
              a->NewMlp(absl::StrCat("text_extract_adapters.", i), dt, r, device));
        }
      }
    } else {
      // vlsm-adapter adapts encoder layers idx < max(extract_layers).
      for (int64_t i = 0; i < deepest; ++i) {
        w.v_attn.push_back(a->NewMlp(absl::StrCat("v_attn_adapters.", i), dv, r, device));
        w.v_out.push_back(a->NewMlp(absl::StrCat("v_out_adapters.", i), dv, r, device));
      }
      if (spec.text) {
        for (int64_t i = 0; i < deepest; ++i) {
          w.l_attn.push_back(a->NewMlp(absl::StrCat("l_attn_adapters.", i), dt, r, device));
          w.l_out.push_back(a->NewMlp(absl::StrCat("l_out_adapters.", i), dt, r, device));
        }
      }
    }
    if (spec.cond) {
      w.cond_adapter =
          a->NewMlp("cond_adapter", config.projection_dim, spec.cond_adapter_dim, device);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("initialising the adapter failed: ", e.what()));
  }
  return a;
}

std::vector<torch::Tensor> TrainAdapter::parameters() const { return TensorsOf(tensors_); }

int64_t TrainAdapter::num_parameters() const { return NumElements(tensors_); }

absl::StatusOr<std::string> TrainAdapter::Serialize(const AdapterFileInfo& info) const {
  try {
    std::vector<torch::Tensor> host;  // keeps the bytes alive while serializing
    std::vector<TensorView> views;
    for (const auto& [name, t] : tensors_) {
      host.push_back(t.detach().to(torch::kCPU, torch::kFloat).contiguous());
      const auto& h = host.back();
      views.push_back({name, DType::kF32, h.sizes().vec(), h.data_ptr(),
                       static_cast<size_t>(h.numel()) * sizeof(float)});
    }
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    std::map<std::string, std::string> meta = {
        {"format", "vlsm-adapter/1"},
        {"variant", spec_.variant()},
        {"adapter_dim", std::to_string(spec_.adapter_dim)},
        {"cond_adapter_dim", std::to_string(spec_.cond_adapter_dim)},
        {"adapter_in_v", flag(spec_.vision)},
        {"adapter_in_l", flag(spec_.text)},
        {"adapter_in_cond", flag(spec_.cond)},
        {"task", info.task},
        {"prompts", nlohmann::json(info.prompts).dump()},
        {"threshold", absl::StrCat(info.threshold)},
        {"base_model", info.base_model},
        {"base_fingerprint", info.base_fingerprint},
        {"source", info.source},
    };
    return SerializeSafetensors(views, meta);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("serializing the adapter failed: ", e.what()));
  }
}

}  // namespace vlsm
