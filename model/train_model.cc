#include "model/train_model.h"

#include <cmath>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/safetensors.h"
#include "model/torch_util.h"

namespace vlsm {
namespace {

ModelPlacement TrainPlacement(const torch::Device& device) {
  ModelPlacement p;
  p.device = device;
  p.trainable = true;
  return p;
}

// PyTorch's nn.Linear / nn.Conv2d default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
torch::Tensor InitTensor(const std::string& name, const std::vector<int64_t>& shape) {
  if (absl::EndsWith(name, ".bias")) return torch::zeros(shape);
  if (absl::StrContains(name, "norm")) return torch::ones(shape);  // layer_norm*, layrnorm
  if (absl::StrContains(name, "position_embedding") || absl::StrContains(name, "token_embedding") ||
      absl::StrContains(name, "class_embedding")) {
    return torch::randn(shape) * 0.02;
  }
  double fan_in = shape.size() > 1 ? 1.0 : static_cast<double>(shape[0]);
  for (size_t i = 1; i < shape.size(); ++i) fan_in *= static_cast<double>(shape[i]);
  const double bound = 1.0 / std::sqrt(fan_in);
  return torch::rand(shape) * (2 * bound) - bound;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrainModel>> TrainModel::Load(const std::string& dir,
                                                             const torch::Device& device,
                                                             bool trainable) {
  auto config = LoadClipSegConfig(dir + "/config.json");
  if (!config.ok()) return config.status();
  auto file = SafetensorsFile::Open(dir + "/model.safetensors");
  if (!file.ok()) return file.status();
  std::unique_ptr<TrainModel> m(new TrainModel());
  m->config_ = *config;
  m->device_ = device;
  try {
    torch::NoGradGuard no_grad;
    TensorLookup lookup = [&](const std::string& name,
                              const std::vector<int64_t>&) -> absl::StatusOr<torch::Tensor> {
      const TensorView* view = (*file)->Find(name);
      if (view == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("model tensor ", name, " is missing"));
      }
      if (view->dtype != DType::kF32 && view->dtype != DType::kF16 && view->dtype != DType::kBF16) {
        return absl::InvalidArgumentError(absl::StrCat("model tensor ", name, ": dtype ",
                                                       DTypeName(view->dtype), " unsupported"));
      }
      auto t = ViewAsTensor(*view, nullptr).to(torch::kFloat).to(device).clone();
      t.set_requires_grad(trainable);
      m->index_[name] = m->tensors_.size();
      m->tensors_.emplace_back(name, t);
      return t;
    };
    // Creating the model enumerates (and shape-checks) every tensor it reads.
    auto model = ClipSegModel::Create(*config, lookup, TrainPlacement(device));
    if (!model.ok()) return model.status();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading ", dir, " failed: ", e.what()));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<TrainModel>> TrainModel::Init(const ClipSegConfig& config,
                                                             uint64_t seed,
                                                             const torch::Device& device) {
  std::unique_ptr<TrainModel> m(new TrainModel());
  m->config_ = config;
  m->device_ = device;
  try {
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    TensorLookup lookup = [&](const std::string& name,
                              const std::vector<int64_t>& shape) -> absl::StatusOr<torch::Tensor> {
      auto t = InitTensor(name, shape).to(device);
      t.set_requires_grad(true);
      m->index_[name] = m->tensors_.size();
      m->tensors_.emplace_back(name, t);
      return t;
    };
    auto model = ClipSegModel::Create(config, lookup, TrainPlacement(device));
    if (!model.ok()) return model.status();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("initialising the model failed: ", e.what()));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<ClipSegModel>> TrainModel::View() const {
  TensorLookup lookup = [this](const std::string& name,
                               const std::vector<int64_t>&) -> absl::StatusOr<torch::Tensor> {
    auto it = index_.find(name);
    if (it == index_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("model tensor ", name, " is missing"));
    }
    return tensors_[it->second].second;
  };
  return ClipSegModel::Create(config_, lookup, TrainPlacement(device_));
}

std::vector<torch::Tensor> TrainModel::parameters() const { return TensorsOf(tensors_); }

int64_t TrainModel::num_parameters() const { return NumElements(tensors_); }

absl::Status TrainModel::Save(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  try {
    std::vector<torch::Tensor> host;  // keeps the bytes alive while serializing
    std::vector<TensorView> views;
    for (const auto& [name, t] : tensors_) {
      host.push_back(t.detach().to(torch::kCPU, torch::kFloat).contiguous());
      const auto& h = host.back();
      views.push_back({name, DType::kF32, h.sizes().vec(), h.data_ptr(),
                       static_cast<size_t>(h.numel()) * sizeof(float)});
    }
    auto bytes = SerializeSafetensors(views, {{"format", "pt"}});
    if (!bytes.ok()) return bytes.status();
    if (auto s = WriteFileAtomically(dir + "/model.safetensors", *bytes); !s.ok()) return s;
    return WriteFileAtomically(dir + "/config.json", ClipSegConfigToJson(config_));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving the model failed: ", e.what()));
  }
}

torch::Tensor SegmentForward(const ClipSegModel& model, const AdapterWeights* adapter,
                             const torch::Tensor& pixels, const torch::Tensor& input_ids) {
  const std::vector<const AdapterWeights*> rows(static_cast<size_t>(pixels.size(0)), adapter);
  auto extracted = model.Vision(pixels, rows);
  auto text = model.Text(input_ids, torch::Tensor(), rows);
  auto cond = model.Condition(text, rows);
  auto reduced = model.Reduce(model.AdaptExtracted(extracted, rows));
  return model.Decode(reduced, cond);
}

}  // namespace vlsm
