#include <atomic>
#include <cmath>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "model/adapter_weights.h"
#include "model/torch_util.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

std::atomic<uint64_t> next_uid{1};

// The adapter modules of vlsm-adapter (cond_adapter aside).
struct ModuleKind {
  const char* name;
  bool dense;
};
constexpr ModuleKind kModules[] = {
    {"vision_extract_adapters", false}, {"text_extract_adapters", false},
    {"v_attn_adapters", true},          {"v_out_adapters", true},
    {"l_attn_adapters", true},          {"l_out_adapters", true},
};

const ModuleKind* FindModule(absl::string_view name) {
  for (const ModuleKind& m : kModules) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

// name -> (module, index) where index is -1 for cond_adapter.
struct ParsedName {
  std::string module;
  int index = -1;
};

absl::StatusOr<ParsedName> ParseTensorName(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '.');
  auto bad = absl::InvalidArgumentError(absl::StrCat("unknown adapter tensor '", name, "'"));
  auto leaf_ok = [](const std::string& fc, const std::string& kind) {
    return (fc == "fc1" || fc == "fc2") && (kind == "weight" || kind == "bias");
  };
  if (parts.size() == 3 && parts[0] == "cond_adapter" && leaf_ok(parts[1], parts[2])) {
    return ParsedName{"cond_adapter", -1};
  }
  int index = 0;
  if (parts.size() != 4 || FindModule(parts[0]) == nullptr ||
      !absl::SimpleAtoi(parts[1], &index) || index < 0 || index > 1024 ||
      !leaf_ok(parts[2], parts[3])) {
    return bad;
  }
  return ParsedName{parts[0], index};
}

bool ParseBool(const std::string& s) { return s == "true" || s == "True" || s == "1"; }

class AdapterParser {
 public:
  AdapterParser(const SafetensorsFile& file, const ClipSegConfig& config,
                const torch::Device& device)
      : file_(file), config_(config), device_(device) {}

  absl::StatusOr<std::shared_ptr<const Adapter>> Parse(const std::string& base_fingerprint);

 private:
  absl::Status InferSpec();
  absl::StatusOr<AdapterMlp> LoadMlp(const std::string& prefix, int64_t width);
  absl::StatusOr<torch::Tensor> Get(const std::string& name, std::vector<int64_t> shape);
  absl::Status ParseMetadata(const std::string& base_fingerprint);

  const SafetensorsFile& file_;
  const ClipSegConfig& config_;
  torch::Device device_;
  std::map<std::string, std::set<int>> present_;  // module -> indices
  AdapterSpec spec_;
  AdapterMetadata metadata_;
  std::set<std::string> used_;
  int64_t params_ = 0;
};

absl::Status AdapterParser::InferSpec() {
  for (const TensorView& t : file_.tensors()) {
    auto parsed = ParseTensorName(t.name);
    if (!parsed.ok()) return parsed.status();
    present_[parsed->module].insert(parsed->index);
  }
  bool shallow = false, dense = false;
  for (const auto& [module, indices] : present_) {
    if (module == "cond_adapter") continue;
    (FindModule(module)->dense ? dense : shallow) = true;
  }
  if (shallow && dense) {
    return absl::InvalidArgumentError("adapter mixes shallow and dense adapter tensors");
  }
  spec_.dense = dense;
  if (dense) {
    for (auto [a, b] : {std::pair<const char*, const char*>{"v_attn_adapters", "v_out_adapters"},
                        {"l_attn_adapters", "l_out_adapters"}}) {
      if (present_.count(a) != present_.count(b)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "dense adapter has ", present_.count(a) ? a : b, " but no ", present_.count(a) ? b : a));
      }
    }
  }
  spec_.vision = present_.count(dense ? "v_attn_adapters" : "vision_extract_adapters") > 0;
  spec_.text = present_.count(dense ? "l_attn_adapters" : "text_extract_adapters") > 0;
  spec_.cond = present_.count("cond_adapter") > 0;
  if (!spec_.vision) {
    return absl::InvalidArgumentError(
        "adapter has no vision adapters (every VLSM-Adapter variant has V)");
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> AdapterParser::Get(const std::string& name,
                                                 std::vector<int64_t> shape) {
  const TensorView* view = file_.Find(name);
  if (view == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("adapter tensor ", name,
                                                   " is missing (expected shape ",
                                                   ShapeToString(shape), ")"));
  }
  if (view->shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat("adapter tensor ", name, ": expected shape ",
                                                   ShapeToString(shape), ", got ",
                                                   ShapeToString(view->shape)));
  }
  if (view->dtype != DType::kF32 && view->dtype != DType::kF16 && view->dtype != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter tensor ", name, ": dtype ", DTypeName(view->dtype),
                     " (expected F32, F16 or BF16)"));
  }
  auto t = ViewAsTensor(*view, nullptr).to(torch::kFloat).clone();
  if (!torch::isfinite(t).all().item<bool>()) {
    return absl::InvalidArgumentError(absl::StrCat("adapter tensor ", name,
                                                   " has non-finite values"));
  }
  used_.insert(name);
  params_ += t.numel();
  return t.to(device_);
}

absl::StatusOr<AdapterMlp> AdapterParser::LoadMlp(const std::string& prefix, int64_t width) {
  const TensorView* fc1 = file_.Find(prefix + ".fc1.weight");
  if (fc1 == nullptr || fc1->shape.size() != 2 || fc1->shape[0] < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter tensor ", prefix, ".fc1.weight is missing or not a [dim, ", width, "] matrix"));
  }
  const int64_t r = fc1->shape[0];
  AdapterMlp mlp;
  auto w1 = Get(prefix + ".fc1.weight", {r, width});
  if (!w1.ok()) return w1.status();
  auto b1 = Get(prefix + ".fc1.bias", {r});
  if (!b1.ok()) return b1.status();
  auto w2 = Get(prefix + ".fc2.weight", {width, r});
  if (!w2.ok()) return w2.status();
  auto b2 = Get(prefix + ".fc2.bias", {width});
  if (!b2.ok()) return b2.status();
  return AdapterMlp{*w1, *b1, *w2, *b2, device_.is_cpu() && at::hasMKLDNN()};
}

absl::Status AdapterParser::ParseMetadata(const std::string& base_fingerprint) {
  const auto& raw = file_.metadata();
  metadata_.raw = raw;
  auto get = [&](const char* key) -> std::string {
    auto it = raw.find(key);
    return it == raw.end() ? "" : it->second;
  };
  metadata_.task = get("task");
  metadata_.base_model = get("base_model");
  metadata_.base_fingerprint = get("base_fingerprint");
  metadata_.source = get("source");
  if (std::string p = get("prompts"); !p.empty()) {
    auto j = nlohmann::json::parse(p, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_array()) {
      return absl::InvalidArgumentError("adapter metadata 'prompts' is not a JSON array");
    }
    for (const auto& e : j) {
      if (!e.is_string()) {
        return absl::InvalidArgumentError("adapter metadata 'prompts' must hold strings");
      }
      metadata_.prompts.push_back(e.get<std::string>());
    }
  }
  if (std::string t = get("threshold"); !t.empty()) {
    if (!absl::SimpleAtof(t, &metadata_.threshold) || !(metadata_.threshold > 0.f) ||
        !(metadata_.threshold < 1.f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("adapter metadata 'threshold' must be in (0, 1), got '", t, "'"));
    }
  }
  // Metadata that contradicts the tensors means a damaged or mislabelled file.
  if (std::string v = get("variant"); !v.empty() && v != spec_.variant()) {
    return absl::InvalidArgumentError(absl::StrCat("adapter metadata says variant '", v,
                                                   "' but the tensors are ", spec_.variant()));
  }
  if (std::string d = get("adapter_dim"); !d.empty() && d != std::to_string(spec_.adapter_dim)) {
    return absl::InvalidArgumentError(absl::StrCat("adapter metadata says adapter_dim ", d,
                                                   " but the tensors have ", spec_.adapter_dim));
  }
  for (auto [key, value] : {std::pair<const char*, bool>{"adapter_in_v", spec_.vision},
                            {"adapter_in_l", spec_.text},
                            {"adapter_in_cond", spec_.cond}}) {
    if (std::string s = get(key); !s.empty() && ParseBool(s) != value) {
      return absl::InvalidArgumentError(
          absl::StrCat("adapter metadata '", key, "' contradicts the tensors"));
    }
  }
  if (!metadata_.base_fingerprint.empty() && !base_fingerprint.empty() &&
      metadata_.base_fingerprint != base_fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        "adapter was trained on base model ", metadata_.base_fingerprint,
        " but this server runs ", base_fingerprint));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Adapter>> AdapterParser::Parse(
    const std::string& base_fingerprint) {
  if (file_.tensors().empty()) return absl::InvalidArgumentError("adapter file has no tensors");
  if (auto s = InferSpec(); !s.ok()) return s;
  auto weights = std::make_unique<AdapterWeights>();
  weights->dense = spec_.dense;
  weights->vision = spec_.vision;
  weights->text = spec_.text;
  weights->cond = spec_.cond;

  const size_t n_extract = config_.extract_layers.size();
  const int64_t deepest = config_.vision_layers_needed() - 1;
  struct Group {
    const char* module;
    bool wanted;
    size_t count;
    int64_t width;
    std::vector<AdapterMlp>* out;
  };
  std::vector<Group> groups;
  if (!spec_.dense) {
    if (spec_.text && config_.text.hidden_size != config_.projection_dim) {
      return absl::InvalidArgumentError(
          "shallow L adapters need text hidden size == projection_dim (vlsm-adapter adds text "
          "states to the conditional embedding)");
    }
    if (spec_.text && config_.text.num_hidden_layers < deepest + 1) {
      return absl::InvalidArgumentError("shallow L adapters need text layers up to the deepest "
                                        "extract layer");
    }
    groups = {{"vision_extract_adapters", spec_.vision, n_extract, config_.vision.hidden_size,
               &weights->vision_extract},
              {"text_extract_adapters", spec_.text, n_extract, config_.text.hidden_size,
               &weights->text_extract}};
  } else {
    // vlsm-adapter adapts encoder layers idx < max(extract_layers).
    const auto count = static_cast<size_t>(deepest);
    groups = {{"v_attn_adapters", spec_.vision, count, config_.vision.hidden_size, &weights->v_attn},
              {"v_out_adapters", spec_.vision, count, config_.vision.hidden_size, &weights->v_out},
              {"l_attn_adapters", spec_.text, count, config_.text.hidden_size, &weights->l_attn},
              {"l_out_adapters", spec_.text, count, config_.text.hidden_size, &weights->l_out}};
  }
  for (const Group& g : groups) {
    if (!g.wanted) continue;
    for (size_t i = 0; i < g.count; ++i) {
      auto mlp = LoadMlp(absl::StrCat(g.module, ".", i), g.width);
      if (!mlp.ok()) return mlp.status();
      g.out->push_back(*std::move(mlp));
    }
  }
  if (spec_.cond) {
    auto mlp = LoadMlp("cond_adapter", config_.projection_dim);
    if (!mlp.ok()) return mlp.status();
    weights->cond_adapter = *std::move(mlp);
    spec_.cond_adapter_dim = weights->cond_adapter.dim();
  }
  spec_.adapter_dim =
      spec_.dense ? weights->v_attn.front().dim() : weights->vision_extract.front().dim();
  // vlsm-adapter has one adapter_dim for every V and L module.
  for (const Group& g : groups) {
    for (size_t i = 0; i < g.out->size(); ++i) {
      if ((*g.out)[i].dim() != spec_.adapter_dim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "adapter tensor ", g.module, ".", i, ".fc1.weight: expected shape [",
            spec_.adapter_dim, ", ", g.width, "] (one adapter_dim for all modules), got [",
            (*g.out)[i].dim(), ", ", g.width, "]"));
      }
    }
  }
  for (const TensorView& t : file_.tensors()) {
    if (!used_.count(t.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "adapter tensor ", t.name, " does not fit the base model (", config_.extract_layers.size(),
          " extract layers, deepest ", deepest, ")"));
    }
  }
  if (auto s = ParseMetadata(base_fingerprint); !s.ok()) return s;
  return std::make_shared<const Adapter>(spec_, metadata_, std::move(weights), params_,
                                         params_ * static_cast<int64_t>(sizeof(float)));
}

}  // namespace

std::string AdapterSpec::targets() const {
  return absl::StrCat(vision ? "V" : "", text ? "L" : "", cond ? "C" : "");
}

std::string AdapterSpec::variant() const {
  std::string t = targets();
  for (char& c : t) c = static_cast<char>(std::tolower(c));
  return absl::StrCat(dense ? "dense_" : "shallow_", t);
}

Adapter::Adapter(AdapterSpec spec, AdapterMetadata metadata,
                 std::unique_ptr<AdapterWeights> weights, int64_t num_parameters, int64_t bytes)
    : spec_(std::move(spec)),
      metadata_(std::move(metadata)),
      weights_(std::move(weights)),
      num_parameters_(num_parameters),
      bytes_(bytes),
      uid_(next_uid.fetch_add(1)) {}

Adapter::~Adapter() = default;

std::shared_ptr<const Adapter> CopyAdapterTo(const Adapter& adapter, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  auto weights = std::make_unique<AdapterWeights>(adapter.weights());
  auto move = [&](AdapterMlp& m) {
    if (!m.fc1_w.defined()) return;
    for (torch::Tensor* t : {&m.fc1_w, &m.fc1_b, &m.fc2_w, &m.fc2_b}) *t = t->to(device);
  };
  for (auto* mlps : {&weights->vision_extract, &weights->text_extract, &weights->v_attn,
                     &weights->v_out, &weights->l_attn, &weights->l_out}) {
    for (AdapterMlp& m : *mlps) move(m);
  }
  move(weights->cond_adapter);
  return std::make_shared<const Adapter>(adapter.spec(), adapter.metadata(), std::move(weights),
                                         adapter.num_parameters(), adapter.bytes());
}

absl::StatusOr<std::shared_ptr<const Adapter>> BuildAdapter(const SafetensorsFile& file,
                                                            const ClipSegConfig& config,
                                                            const std::string& base_fingerprint,
                                                            const torch::Device& device) {
  try {
    torch::NoGradGuard no_grad;
    return AdapterParser(file, config, device).Parse(base_fingerprint);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("loading the adapter failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading the adapter failed: ", e.what()));
  }
}

}  // namespace vlsm
