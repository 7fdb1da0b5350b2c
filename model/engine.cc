#include "model/engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/adapter_weights.h"
#include "model/clipseg_model.h"
#include "model/fingerprint.h"
#include "model/lru_cache.h"
#include "model/safetensors.h"
#include "model/torch_util.h"

namespace vlsm {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool CpuHasAvx512Bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "flags")) return absl::StrContains(line, "avx512_bf16");
  }
  return false;
}

absl::StatusOr<ModelPlacement> ParsePlacement(const EngineOptions& options) {
  ModelPlacement placement;
  try {
    placement.device = torch::Device(options.device);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("bad device '", options.device, "'"));
  }
  if (placement.device.is_cuda() && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError("CUDA requested but this LibTorch/machine has none");
  }
  if (!placement.device.is_cpu() && !placement.device.is_cuda()) {
    return absl::InvalidArgumentError("device must be cpu or cuda[:N]");
  }
  if (options.dtype == "float32") {
    placement.compute_dtype = torch::kFloat;
  } else if (options.dtype == "bfloat16") {
    if (placement.device.is_cpu() && !CpuHasAvx512Bf16()) {
      return absl::FailedPreconditionError("bfloat16 on CPU needs avx512_bf16");
    }
    placement.compute_dtype = torch::kBFloat16;
  } else if (options.dtype == "float16" && placement.device.is_cuda()) {
    placement.compute_dtype = torch::kHalf;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype '", options.dtype, "' not supported on ", options.device));
  }
  return placement;
}

// Cache key of a conditional embedding: the ids up to the first EOS, the
// mask over them, and the adapter when it changes the condition.
struct TextKey {
  std::vector<int64_t> ids, mask;
  uint64_t adapter_uid = 0;
  bool operator==(const TextKey& o) const {
    return ids == o.ids && mask == o.mask && adapter_uid == o.adapter_uid;
  }
};
struct TextKeyHash {
  size_t operator()(const TextKey& k) const {
    size_t h = std::hash<uint64_t>()(k.adapter_uid);
    for (int64_t v : k.ids) h = h * 1000003u ^ std::hash<int64_t>()(v);
    for (int64_t v : k.mask) h = h * 31u ^ static_cast<size_t>(v);
    return h;
  }
};

// Assigns dense indices to distinct keys in order of first appearance.
template <typename K>
class Distinct {
 public:
  size_t Add(const K& key) {
    auto [it, inserted] = index_.emplace(key, keys_.size());
    if (inserted) keys_.push_back(key);
    return it->second;
  }
  const std::vector<K>& keys() const { return keys_; }

 private:
  std::map<K, size_t> index_;
  std::vector<K> keys_;
};

const AdapterWeights* WeightsOf(const std::shared_ptr<const Adapter>& a) {
  return a ? &a->weights() : nullptr;
}

}  // namespace

struct Engine::Impl {
  ClipSegConfig config;
  EngineOptions options;
  ModelPlacement placement;
  std::string fingerprint;
  std::unique_ptr<ClipSegModel> model;
  mutable LruCache<TextKey, torch::Tensor, TextKeyHash> cond_cache{4096};

  Impl(size_t cache_entries) : cond_cache(cache_entries) {}

  absl::Status ValidateQueries(const std::vector<HostTensor>& images,
                               const std::vector<SegmentQuery>& queries) const;
  TextKey MakeTextKey(const SegmentQuery& q) const;
  std::vector<HostTensor> Run(const std::vector<HostTensor>& images,
                              const std::vector<SegmentQuery>& queries, SegmentStats* stats,
                              const TraceSink* trace) const;
};

absl::Status Engine::Impl::ValidateQueries(const std::vector<HostTensor>& images,
                                           const std::vector<SegmentQuery>& queries) const {
  const auto& v = config.vision;
  for (size_t i = 0; i < images.size(); ++i) {
    const HostTensor& img = images[i];
    if (img.shape.size() != 3 || img.shape[0] != v.num_channels || img.shape[1] != img.shape[2] ||
        img.shape[1] < v.patch_size || img.shape[1] % v.patch_size != 0 ||
        img.shape[1] > 64 * v.patch_size ||
        static_cast<int64_t>(img.data.size()) != img.numel()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image ", i, ": expected [3, S, S] float32 with S a multiple of ", v.patch_size));
    }
  }
  for (size_t i = 0; i < queries.size(); ++i) {
    const SegmentQuery& q = queries[i];
    if (q.image >= images.size()) {
      return absl::InvalidArgumentError(absl::StrCat("query ", i, ": no image ", q.image));
    }
    const auto& ids = q.prompt.input_ids;
    if (ids.empty() || static_cast<int64_t>(ids.size()) > config.text.max_position_embeddings) {
      return absl::InvalidArgumentError(absl::StrCat("query ", i, ": prompt has ", ids.size(),
                                                     " tokens (1..",
                                                     config.text.max_position_embeddings, ")"));
    }
    for (int64_t id : ids) {
      if (id < 0 || id >= config.text.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("query ", i, ": token id ", id, " outside the vocabulary"));
      }
    }
    if (!q.prompt.attention_mask.empty() && q.prompt.attention_mask.size() != ids.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("query ", i, ": attention_mask length differs from input_ids"));
    }
  }
  return absl::OkStatus();
}

TextKey Engine::Impl::MakeTextKey(const SegmentQuery& q) const {
  const auto& ids = q.prompt.input_ids;
  size_t len = ids.size();
  if (config.text.eos_token_id != 2) {  // HF pools at the first EOS: later tokens are inert
    auto eos = std::find(ids.begin(), ids.end(), config.text.eos_token_id);
    if (eos != ids.end()) len = static_cast<size_t>(eos - ids.begin()) + 1;
  }
  TextKey key;
  key.ids.assign(ids.begin(), ids.begin() + len);
  if (!q.prompt.attention_mask.empty()) {
    key.mask.assign(q.prompt.attention_mask.begin(), q.prompt.attention_mask.begin() + len);
    if (std::all_of(key.mask.begin(), key.mask.end(), [](int64_t m) { return m != 0; })) {
      key.mask.clear();  // all ones is the same as no mask
    }
  }
  if (q.adapter && q.adapter->weights().changes_condition()) key.adapter_uid = q.adapter->uid();
  return key;
}

std::vector<HostTensor> Engine::Impl::Run(const std::vector<HostTensor>& images,
                                          const std::vector<SegmentQuery>& queries,
                                          SegmentStats* stats, const TraceSink* trace) const {
  const auto t0 = Clock::now();
  const size_t nq = queries.size();
  Trace tracer;
  if (trace) {
    tracer = [trace](const std::string& name, const torch::Tensor& t) { (*trace)(name, ToHost(t)); };
  }
  const Trace* tr = trace ? &tracer : nullptr;
  auto dev = placement.device;
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(dev);

  // 1. Vision: one backbone row per (image, dense-V adapter or frozen base),
  // batched per image size.
  using VisionKey = std::pair<size_t, uint64_t>;
  Distinct<VisionKey> vision_rows;
  std::vector<size_t> query_vision(nq);
  std::map<VisionKey, const AdapterWeights*> vision_adapter;
  for (size_t i = 0; i < nq; ++i) {
    const auto& a = queries[i].adapter;
    const bool dense_v = a && a->weights().changes_vision_encoder();
    VisionKey key{queries[i].image, dense_v ? a->uid() : 0};
    query_vision[i] = vision_rows.Add(key);
    vision_adapter[key] = dense_v ? &a->weights() : nullptr;
  }
  const size_t nv = vision_rows.keys().size();
  const size_t n_extract = config.extract_layers.size();
  std::vector<std::vector<torch::Tensor>> extracted_rows(nv);  // [row][layer] -> [T, D]
  std::map<int64_t, std::vector<size_t>> rows_by_size;
  for (size_t r = 0; r < nv; ++r) {
    rows_by_size[images[vision_rows.keys()[r].first].shape[1]].push_back(r);
  }
  for (const auto& [size, rows] : rows_by_size) {
    std::vector<torch::Tensor> pixels;
    std::vector<const AdapterWeights*> adapters;
    for (size_t r : rows) {
      const VisionKey& key = vision_rows.keys()[r];
      pixels.push_back(FromHost(images[key.first]));
      adapters.push_back(vision_adapter.at(key));
    }
    auto extracted = model->Vision(torch::stack(pixels), adapters, tr);
    for (size_t j = 0; j < rows.size(); ++j) {
      for (size_t k = 0; k < n_extract; ++k) extracted_rows[rows[j]].push_back(extracted[k][j]);
    }
  }
  if (stats) stats->vision_ms = MsSince(t0), stats->vision_rows = static_cast<int>(nv);

  // 2. Text: distinct conditional embeddings, from the cache or one batch.
  const auto t1 = Clock::now();
  std::vector<TextKey> keys(nq);
  std::vector<torch::Tensor> cond(nq);
  Distinct<size_t> misses;  // query index of the first query per missing key
  std::unordered_map<TextKey, size_t, TextKeyHash> miss_of_key;
  std::vector<std::pair<size_t, size_t>> waiting;  // (query, miss row)
  for (size_t i = 0; i < nq; ++i) {
    keys[i] = MakeTextKey(queries[i]);
    if (auto hit = cond_cache.Get(keys[i])) {
      cond[i] = *hit;
      if (stats) ++stats->cache_hits;
      continue;
    }
    auto it = miss_of_key.find(keys[i]);
    if (it == miss_of_key.end()) it = miss_of_key.emplace(keys[i], misses.Add(i)).first;
    waiting.emplace_back(i, it->second);
  }
  if (!misses.keys().empty()) {
    const auto& first = misses.keys();
    const size_t nm = first.size();
    int64_t len = 0;
    bool any_mask = false;
    for (size_t q : first) {
      len = std::max<int64_t>(len, keys[q].ids.size());
      any_mask |= !keys[q].mask.empty();
    }
    // Pad after each row's EOS: inert under the causal mask and first-EOS pooling.
    const int64_t pad = config.text.eos_token_id == 2 ? 0 : config.text.eos_token_id;
    auto ids = torch::full({static_cast<int64_t>(nm), len}, pad, torch::kLong);
    auto mask = any_mask ? torch::zeros({static_cast<int64_t>(nm), len}, torch::kLong)
                         : torch::Tensor();
    std::vector<const AdapterWeights*> adapters;
    for (size_t m = 0; m < nm; ++m) {
      const TextKey& k = keys[first[m]];
      auto n = static_cast<int64_t>(k.ids.size());
      ids[m].narrow(0, 0, n).copy_(torch::tensor(k.ids, torch::kLong));
      if (any_mask) {
        if (k.mask.empty()) {
          mask[m].narrow(0, 0, n).fill_(1);
        } else {
          mask[m].narrow(0, 0, n).copy_(torch::tensor(k.mask, torch::kLong));
        }
      }
      adapters.push_back(WeightsOf(queries[first[m]].adapter));
    }
    auto text = model->Text(ids, mask, adapters, tr);
    auto computed = model->Condition(text, adapters);
    if (tr) (*tr)("conditional_embeddings", computed);
    for (size_t m = 0; m < nm; ++m) cond_cache.Put(keys[first[m]], computed[m]);
    for (auto [q, m] : waiting) cond[q] = computed[m];
    if (stats) stats->text_rows = static_cast<int>(nm);
  }
  if (stats) stats->text_ms = MsSince(t1);

  // 3. Decoder: reduce once per (vision row, shallow-V adapter), then FiLM +
  // decoder layers + heads for every query in one batch.
  const auto t2 = Clock::now();
  using DecoderKey = std::pair<size_t, uint64_t>;
  Distinct<DecoderKey> decoder_rows;
  std::vector<size_t> query_decoder(nq);
  std::vector<const AdapterWeights*> decoder_adapters;
  std::vector<int64_t> decoder_vision;
  for (size_t i = 0; i < nq; ++i) {
    const auto& a = queries[i].adapter;
    const bool shallow_v = a && !a->spec().dense && a->spec().vision;
    DecoderKey key{query_vision[i], shallow_v ? a->uid() : 0};
    size_t before = decoder_rows.keys().size();
    query_decoder[i] = decoder_rows.Add(key);
    if (decoder_rows.keys().size() > before) {
      decoder_adapters.push_back(shallow_v ? &a->weights() : nullptr);
      decoder_vision.push_back(static_cast<int64_t>(query_vision[i]));
    }
  }
  // Decoder rows and queries are processed per image size (token count).
  std::map<int64_t, std::vector<size_t>> decoder_rows_by_size;
  for (size_t r = 0; r < decoder_vision.size(); ++r) {
    const size_t image = vision_rows.keys()[decoder_vision[r]].first;
    decoder_rows_by_size[images[image].shape[1]].push_back(r);
  }
  std::vector<HostTensor> out(nq);
  for (const auto& [size, rows] : decoder_rows_by_size) {
    std::vector<int64_t> local(decoder_vision.size(), -1);  // decoder row -> row in this group
    std::vector<const AdapterWeights*> group_adapters;
    std::vector<torch::Tensor> stacked(n_extract);
    for (size_t k = 0; k < n_extract; ++k) {
      std::vector<torch::Tensor> per_row;
      for (size_t r : rows) per_row.push_back(extracted_rows[decoder_vision[r]][k]);
      stacked[k] = torch::stack(per_row);
    }
    for (size_t j = 0; j < rows.size(); ++j) {
      local[rows[j]] = static_cast<int64_t>(j);
      group_adapters.push_back(decoder_adapters[rows[j]]);
    }
    auto adapted = model->AdaptExtracted(stacked, group_adapters);
    if (tr) {
      for (size_t k = 0; k < n_extract; ++k) {
        (*tr)(absl::StrCat("decoder_activation.", config.extract_layers[k]), adapted[k]);
      }
    }
    auto reduced = model->Reduce(adapted);
    std::vector<int64_t> qs, gather;
    std::vector<torch::Tensor> conds;
    for (size_t i = 0; i < nq; ++i) {
      if (local[query_decoder[i]] < 0) continue;
      qs.push_back(static_cast<int64_t>(i));
      gather.push_back(local[query_decoder[i]]);
      conds.push_back(cond[i]);
    }
    auto index = torch::tensor(gather, long_opts);
    std::vector<torch::Tensor> gathered;
    for (const auto& r : reduced) gathered.push_back(r.index_select(0, index));
    auto logits = model->Decode(gathered, torch::stack(conds), tr).to(torch::kCPU).contiguous();
    for (size_t j = 0; j < qs.size(); ++j) out[qs[j]] = ToHost(logits[j]);
  }
  if (stats) {
    stats->decoder_ms = MsSince(t2);
    stats->total_ms = MsSince(t0);
  }
  return out;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

namespace {

absl::StatusOr<std::unique_ptr<Engine::Impl>> MakeImpl(const ClipSegConfig& config,
                                                       const EngineOptions& options,
                                                       ModelPlacement* placement) {
  auto parsed = ParsePlacement(options);
  if (!parsed.ok()) return parsed.status();
  *placement = *parsed;
  const int threads = SetCpuThreads(options.num_threads);
  auto impl = std::make_unique<Engine::Impl>(options.condition_cache_entries);
  impl->config = config;
  impl->options = options;
  impl->options.num_threads = threads;
  impl->placement = *placement;
  return impl;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const std::string& model_dir,
                                                       const EngineOptions& options) {
  auto config = LoadClipSegConfig(model_dir + "/config.json");
  if (!config.ok()) return config.status();
  auto opened = SafetensorsFile::Open(model_dir + "/model.safetensors");
  if (!opened.ok()) return opened.status();
  std::shared_ptr<const SafetensorsFile> file = *std::move(opened);
  ModelPlacement placement;
  auto impl = MakeImpl(*config, options, &placement);
  if (!impl.ok()) return impl.status();
  (*impl)->fingerprint = WeightsFingerprint(file->tensors());
  TensorLookup lookup = [file](const std::string& name,
                               const std::vector<int64_t>&) -> absl::StatusOr<torch::Tensor> {
    const TensorView* view = file->Find(name);
    if (view == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("model tensor ", name, " is missing"));
    }
    if (view->dtype != DType::kF32 && view->dtype != DType::kF16 && view->dtype != DType::kBF16) {
      return absl::InvalidArgumentError(
          absl::StrCat("model tensor ", name, ": dtype ", DTypeName(view->dtype), " unsupported"));
    }
    return ViewAsTensor(*view, file).to(torch::kFloat);  // no copy for F32
  };
  auto model = ClipSegModel::Create(*config, lookup, placement);
  if (!model.ok()) return model.status();
  (*impl)->model = *std::move(model);
  // Copied or converted weights (fused q/k/v, bfloat16) must not stay
  // resident twice; views fault their pages back in on use.
  file->ReleaseResidentPages();
  return std::unique_ptr<Engine>(new Engine(*std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::CreateRandom(const ClipSegConfig& config,
                                                             uint64_t seed,
                                                             const EngineOptions& options) {
  ModelPlacement placement;
  auto impl = MakeImpl(config, options, &placement);
  if (!impl.ok()) return impl.status();
  (*impl)->fingerprint = absl::StrCat("random:", seed);
  torch::manual_seed(seed);
  TensorLookup lookup = [](const std::string& name,
                           const std::vector<int64_t>& shape) -> absl::StatusOr<torch::Tensor> {
    if (absl::StrContains(name, "norm") || absl::StrContains(name, "layrnorm")) {
      return absl::EndsWith(name, ".weight") ? torch::ones(shape) : torch::zeros(shape);
    }
    return torch::randn(shape) * 0.02;
  };
  auto model = ClipSegModel::Create(config, lookup, placement);
  if (!model.ok()) return model.status();
  (*impl)->model = *std::move(model);
  return std::unique_ptr<Engine>(new Engine(*std::move(impl)));
}

absl::Status Engine::WriteRandomModel(const ClipSegConfig& config, uint64_t seed,
                                      const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  try {
    torch::manual_seed(seed);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    TensorLookup lookup = [&](const std::string& name,
                              const std::vector<int64_t>& shape) -> absl::StatusOr<torch::Tensor> {
      torch::Tensor t;
      if (absl::StrContains(name, "norm") || absl::StrContains(name, "layrnorm")) {
        t = absl::EndsWith(name, ".weight") ? 1 + 0.1 * torch::randn(shape)
                                            : 0.05 * torch::randn(shape);
      } else {
        double fan_in = 1;
        for (size_t i = 1; i < shape.size(); ++i) fan_in *= static_cast<double>(shape[i]);
        t = torch::randn(shape) * std::max(0.05, 1.0 / std::sqrt(fan_in));
      }
      tensors.emplace_back(name, t.contiguous());
      return t;
    };
    ModelPlacement placement;
    auto model = ClipSegModel::Create(config, lookup, placement);
    if (!model.ok()) return model.status();
    std::vector<TensorView> views;
    for (const auto& [name, t] : tensors) {
      views.push_back({name, DType::kF32, t.sizes().vec(), t.data_ptr(),
                       static_cast<size_t>(t.numel()) * sizeof(float)});
    }
    auto bytes = SerializeSafetensors(views, {{"format", "pt"}});
    if (!bytes.ok()) return bytes.status();
    if (auto s = WriteFileAtomically(dir + "/model.safetensors", *bytes); !s.ok()) return s;
    return WriteFileAtomically(dir + "/config.json", ClipSegConfigToJson(config));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("writing the random model failed: ", e.what()));
  }
}

absl::StatusOr<std::shared_ptr<const Adapter>> Engine::LoadAdapter(const std::string& path) const {
  auto file = SafetensorsFile::Open(path);
  if (!file.ok()) return file.status();
  return BuildAdapter(**file, impl_->config, impl_->fingerprint, impl_->placement.device);
}

absl::StatusOr<std::shared_ptr<const Adapter>> Engine::ParseAdapter(std::string bytes) const {
  auto file = SafetensorsFile::FromBuffer(std::move(bytes));
  if (!file.ok()) return file.status();
  return BuildAdapter(**file, impl_->config, impl_->fingerprint, impl_->placement.device);
}

absl::StatusOr<std::shared_ptr<const Adapter>> Engine::CopyAdapter(const Adapter& adapter,
                                                                   bool to_device) const {
  try {
    return CopyAdapterTo(adapter, to_device ? impl_->placement.device : torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("copying the adapter failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<std::vector<HostTensor>> Engine::Segment(const std::vector<HostTensor>& images,
                                                        const std::vector<SegmentQuery>& queries,
                                                        SegmentStats* stats,
                                                        const TraceSink* trace) const {
  if (queries.empty()) return std::vector<HostTensor>{};
  if (auto s = impl_->ValidateQueries(images, queries); !s.ok()) return s;
  try {
    c10::InferenceMode guard;
    return impl_->Run(images, queries, stats, trace);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("inference failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("inference failed: ", e.what()));
  }
}

const ClipSegConfig& Engine::config() const { return impl_->config; }
const std::string& Engine::fingerprint() const { return impl_->fingerprint; }
const EngineOptions& Engine::options() const { return impl_->options; }
size_t Engine::condition_cache_size() const { return impl_->cond_cache.size(); }
uint64_t Engine::condition_cache_hits() const { return impl_->cond_cache.hits(); }
uint64_t Engine::condition_cache_misses() const { return impl_->cond_cache.misses(); }

}  // namespace vlsm
