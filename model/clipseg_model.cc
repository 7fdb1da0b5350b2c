#include "model/clipseg_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vlsm {
namespace {

std::string ShapeString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape.begin(), shape.end(), ", "), "]");
}

// Fetches tensors by name and checks their shapes; remembers the first error.
class Loader {
 public:
  Loader(const TensorLookup& lookup, const ModelPlacement& placement)
      : lookup_(lookup), placement_(placement) {}

  torch::Tensor Get(const std::string& name, std::vector<int64_t> shape) {
    if (!status_.ok()) return {};
    auto t = lookup_(name, shape);
    if (!t.ok()) {
      status_ = t.status();
      return {};
    }
    if (t->sizes() != c10::IntArrayRef(shape)) {
      status_ = absl::InvalidArgumentError(absl::StrCat("model tensor ", name, ": expected shape ",
                                                        ShapeString(shape), ", got ",
                                                        ShapeString(t->sizes())));
      return {};
    }
    return t->to(placement_.device);
  }

  Linear GetLinear(const std::string& prefix, int64_t out, int64_t in, bool bias = true) {
    Linear l;
    l.weight = Get(prefix + ".weight", {out, in});
    if (bias) l.bias = Get(prefix + ".bias", {out});
    return l;
  }

  LayerNorm GetLayerNorm(const std::string& prefix, int64_t dim, double eps) {
    return LayerNorm{Get(prefix + ".weight", {dim}), Get(prefix + ".bias", {dim}), eps};
  }

  TransformerLayer GetLayer(const std::string& prefix, int64_t dim, int64_t intermediate,
                            int64_t heads, Activation act, double eps) {
    TransformerLayer layer;
    layer.num_heads = heads;
    layer.act = act;
    layer.ln1 = GetLayerNorm(prefix + ".layer_norm1", dim, eps);
    layer.ln2 = GetLayerNorm(prefix + ".layer_norm2", dim, eps);
    Linear q = GetLinear(prefix + ".self_attn.q_proj", dim, dim);
    Linear k = GetLinear(prefix + ".self_attn.k_proj", dim, dim);
    Linear v = GetLinear(prefix + ".self_attn.v_proj", dim, dim);
    if (status_.ok()) {
      layer.qkv.weight = torch::cat({q.weight, k.weight, v.weight}, 0);
      layer.qkv.bias = torch::cat({q.bias, k.bias, v.bias}, 0);
    }
    layer.out_proj = GetLinear(prefix + ".self_attn.out_proj", dim, dim);
    layer.fc1 = GetLinear(prefix + ".mlp.fc1", intermediate, dim);
    layer.fc2 = GetLinear(prefix + ".mlp.fc2", dim, intermediate);
    return layer;
  }

  const absl::Status& status() const { return status_; }

 private:
  const TensorLookup& lookup_;
  const ModelPlacement& placement_;
  absl::Status status_;
};

Activation ParseActivation(const std::string& name) {
  if (name == "gelu") return Activation::kGelu;
  if (name == "relu") return Activation::kRelu;
  return Activation::kQuickGelu;
}

// Prepares a layer's matrix products for the placement's backend and dtype.
void PlaceLayer(TransformerLayer& layer, const ModelPlacement& placement) {
  MatmulBackend backend = MatmulBackend::kDefault;
  if (placement.device.is_cpu() && at::hasMKLDNN() && !placement.trainable) {
    backend = placement.compute_dtype == torch::kBFloat16 ? MatmulBackend::kOneDnnBf16
                                                          : MatmulBackend::kOneDnnFp32;
  }
  layer.onednn_attention = backend != MatmulBackend::kDefault;
  for (Linear* l : {&layer.qkv, &layer.out_proj, &layer.fc1, &layer.fc2}) {
    if (placement.device.is_cuda() && placement.compute_dtype != torch::kFloat) {
      l->weight = l->weight.to(placement.compute_dtype);
      if (l->bias.defined()) l->bias = l->bias.to(placement.compute_dtype);
    }
    l->Prepare(backend);
  }
}

// float32 everywhere (the decoder): oneDNN on CPU, the default elsewhere.
MatmulBackend Fp32Backend(const ModelPlacement& placement) {
  return placement.device.is_cpu() && at::hasMKLDNN() && !placement.trainable
             ? MatmulBackend::kOneDnnFp32
             : MatmulBackend::kDefault;
}

void PlaceFp32Layer(TransformerLayer& layer, const ModelPlacement& placement) {
  layer.onednn_attention = Fp32Backend(placement) != MatmulBackend::kDefault;
  for (Linear* l : {&layer.qkv, &layer.out_proj, &layer.fc1, &layer.fc2}) {
    l->Prepare(Fp32Backend(placement));
  }
}

// Adapter MLPs of one kind for layer `i`, one entry per row (null = none).
std::vector<const AdapterMlp*> RowsForLayer(const std::vector<const AdapterWeights*>& rows,
                                            std::vector<AdapterMlp> AdapterWeights::*member,
                                            bool (AdapterWeights::*applies)() const, size_t i,
                                            bool* any) {
  std::vector<const AdapterMlp*> out(rows.size(), nullptr);
  for (size_t r = 0; r < rows.size(); ++r) {
    const AdapterWeights* a = rows[r];
    if (a != nullptr && (a->*applies)() && i < (a->*member).size()) {
      out[r] = &(a->*member)[i];
      *any = true;
    }
  }
  return out;
}

bool IsExtractLayer(const ClipSegConfig& c, int64_t layer) {
  return std::find(c.extract_layers.begin(), c.extract_layers.end(), layer) !=
         c.extract_layers.end();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClipSegModel>> ClipSegModel::Create(
    const ClipSegConfig& config, const TensorLookup& lookup, const ModelPlacement& placement) {
  std::unique_ptr<ClipSegModel> model(new ClipSegModel());
  model->config_ = config;
  model->placement_ = placement;
  try {
    if (auto s = model->Load(lookup); !s.ok()) return s;
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("loading the model failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading the model failed: ", e.what()));
  }
  return model;
}

absl::Status ClipSegModel::Load(const TensorLookup& lookup) {
  // Trainable: the fused q/k/v concatenation must stay on the autograd graph.
  std::optional<torch::NoGradGuard> no_grad;
  if (!placement_.trainable) no_grad.emplace();
  Loader in(lookup, placement_);
  const auto& v = config_.vision;
  const auto& t = config_.text;
  const int64_t grid = v.image_size / v.patch_size;
  const std::string vp = "clip.vision_model.";
  patch_weight_ = in.Get(vp + "embeddings.patch_embedding.weight",
                         {v.hidden_size, v.num_channels, v.patch_size, v.patch_size});
  class_embedding_ = in.Get(vp + "embeddings.class_embedding", {v.hidden_size});
  vision_positions_ =
      in.Get(vp + "embeddings.position_embedding.weight", {grid * grid + 1, v.hidden_size});
  pre_layernorm_ = in.GetLayerNorm(vp + "pre_layrnorm", v.hidden_size, v.layer_norm_eps);
  for (int64_t i = 0; i < config_.vision_layers_needed(); ++i) {
    vision_layers_.push_back(in.GetLayer(absl::StrCat(vp, "encoder.layers.", i), v.hidden_size,
                                         v.intermediate_size, v.num_attention_heads,
                                         ParseActivation(v.hidden_act), v.layer_norm_eps));
  }

  const std::string tp = "clip.text_model.";
  token_embedding_ = in.Get(tp + "embeddings.token_embedding.weight", {t.vocab_size, t.hidden_size});
  text_positions_ = in.Get(tp + "embeddings.position_embedding.weight",
                           {t.max_position_embeddings, t.hidden_size});
  for (int64_t i = 0; i < t.num_hidden_layers; ++i) {
    text_layers_.push_back(in.GetLayer(absl::StrCat(tp, "encoder.layers.", i), t.hidden_size,
                                       t.intermediate_size, t.num_attention_heads,
                                       ParseActivation(t.hidden_act), t.layer_norm_eps));
  }
  final_layernorm_ = in.GetLayerNorm(tp + "final_layer_norm", t.hidden_size, t.layer_norm_eps);
  text_projection_ = in.Get("clip.text_projection.weight", {config_.projection_dim, t.hidden_size});

  const int64_t r = config_.reduce_dim;
  film_mul_ = in.GetLinear("decoder.film_mul", r, config_.projection_dim);
  film_add_ = in.GetLinear("decoder.film_add", r, config_.projection_dim);
  for (size_t i = 0; i < config_.extract_layers.size(); ++i) {
    reduces_.push_back(in.GetLinear(absl::StrCat("decoder.reduces.", i), r, v.hidden_size));
    decoder_layers_.push_back(in.GetLayer(absl::StrCat("decoder.layers.", i), r,
                                          config_.decoder_intermediate_size,
                                          config_.decoder_num_attention_heads, Activation::kRelu,
                                          v.layer_norm_eps));
  }
  const std::string cp = "decoder.transposed_convolution.";
  if (config_.use_complex_transposed_convolution) {
    const int64_t k = v.patch_size / 4;
    conv_weights_ = {in.Get(cp + "0.weight", {r, r, 3, 3}), in.Get(cp + "2.weight", {r, r / 2, k, k}),
                     in.Get(cp + "4.weight", {r / 2, 1, k, k})};
    conv_biases_ = {in.Get(cp + "0.bias", {r}), in.Get(cp + "2.bias", {r / 2}),
                    in.Get(cp + "4.bias", {1})};
  } else {
    conv_weights_ = {in.Get(cp + "weight", {r, 1, v.patch_size, v.patch_size})};
    conv_biases_ = {in.Get(cp + "bias", {1})};
  }
  if (!in.status().ok()) return in.status();

  for (auto& layer : vision_layers_) PlaceLayer(layer, placement_);
  for (auto& layer : text_layers_) PlaceLayer(layer, placement_);
  for (auto& layer : decoder_layers_) PlaceFp32Layer(layer, placement_);
  for (Linear* l : {&film_mul_, &film_add_}) l->Prepare(MatmulBackend::kDefault);
  for (Linear& l : reduces_) l.Prepare(Fp32Backend(placement_));
  if (placement_.device.is_cuda() && placement_.compute_dtype != torch::kFloat) {
    patch_weight_ = patch_weight_.to(placement_.compute_dtype);
  }
  return absl::OkStatus();
}

torch::Tensor ClipSegModel::PositionEmbedding(int64_t grid) const {
  const int64_t native = config_.vision.image_size / config_.vision.patch_size;
  if (grid == native) return vision_positions_;
  const int64_t d = config_.vision.hidden_size;
  auto table = vision_positions_.narrow(0, 1, native * native).t().reshape({1, d, native, native});
  auto resized = torch::nn::functional::interpolate(
      table, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{grid, grid})
                 .mode(torch::kBicubic)
                 .align_corners(false));
  auto rows = resized.squeeze(0).reshape({d, grid * grid}).t();
  return torch::cat({vision_positions_.narrow(0, 0, 1), rows}, 0);
}

torch::Tensor ClipSegModel::EncoderLayerForward(const TransformerLayer& layer,
                                                const torch::Tensor& x, const torch::Tensor& mask,
                                                const AdapterMlp* const* attn_rows,
                                                const AdapterMlp* const* out_rows,
                                                int64_t n) const {
  auto attn = layer.Attention(layer.ln1(x), mask);
  if (attn_rows != nullptr) attn = ApplyAdapterRows(attn, {attn_rows, attn_rows + n});
  auto h = x + attn;
  auto mlp = layer.Mlp(layer.ln2(h));
  if (out_rows != nullptr) mlp = ApplyAdapterRows(mlp, {out_rows, out_rows + n});
  return h + mlp;
}

std::vector<torch::Tensor> ClipSegModel::Vision(const torch::Tensor& pixels,
                                                const std::vector<const AdapterWeights*>& rows,
                                                const Trace* trace) const {
  const auto& v = config_.vision;
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == v.num_channels,
              "pixel_values must be [N, 3, S, S]");
  TORCH_CHECK(pixels.size(2) == pixels.size(3), "pixel_values must be square");
  TORCH_CHECK(pixels.size(2) % v.patch_size == 0 && pixels.size(2) >= v.patch_size,
              "image side must be a multiple of the patch size ", v.patch_size);
  TORCH_CHECK(static_cast<int64_t>(rows.size()) == pixels.size(0), "one adapter entry per row");
  const int64_t n = pixels.size(0);
  auto x = pixels.to(placement_.device, patch_weight_.scalar_type());
  auto patches = torch::conv2d(x, patch_weight_, {}, v.patch_size).to(torch::kFloat);
  const int64_t grid = patches.size(2);
  patches = patches.flatten(2).transpose(1, 2);
  auto cls = class_embedding_.view({1, 1, -1}).expand({n, 1, v.hidden_size});
  auto positions = PositionEmbedding(grid);
  auto h = torch::cat({cls, patches}, 1) + positions;
  if (trace) {
    (*trace)("pos_embedding_interpolated", positions);
    (*trace)("vision_embeddings", h);
  }
  h = pre_layernorm_(h);
  if (trace) (*trace)("vision_hidden.pre", h);

  std::vector<torch::Tensor> layer_outputs(vision_layers_.size());
  for (size_t i = 0; i < vision_layers_.size(); ++i) {
    bool any_attn = false, any_out = false;
    auto attn_rows = RowsForLayer(rows, &AdapterWeights::v_attn,
                                  &AdapterWeights::changes_vision_encoder, i, &any_attn);
    auto out_rows = RowsForLayer(rows, &AdapterWeights::v_out,
                                 &AdapterWeights::changes_vision_encoder, i, &any_out);
    h = EncoderLayerForward(vision_layers_[i], h, {}, any_attn ? attn_rows.data() : nullptr,
                            any_out ? out_rows.data() : nullptr, n);
    if (IsExtractLayer(config_, i)) {
      layer_outputs[i] = h;
      if (trace) (*trace)(absl::StrCat("vision_hidden.", i), h);
    }
  }
  std::vector<torch::Tensor> extracted;  // hidden_states[k+1], extract order
  for (int64_t k : config_.extract_layers) extracted.push_back(layer_outputs[k]);
  return extracted;
}

TextOutput ClipSegModel::Text(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                              const std::vector<const AdapterWeights*>& rows,
                              const Trace* trace) const {
  const auto& t = config_.text;
  TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [N, L]");
  const int64_t n = input_ids.size(0), len = input_ids.size(1);
  TORCH_CHECK(len >= 1 && len <= t.max_position_embeddings, "prompt length ", len,
              " outside 1..", t.max_position_embeddings);
  TORCH_CHECK(static_cast<int64_t>(rows.size()) == n, "one adapter entry per row");
  // Token ids were range-checked by the engine before any compute (checking
  // here again would cost a device sync per call).
  auto ids = input_ids.to(placement_.device, torch::kLong);
  auto h = token_embedding_.index_select(0, ids.flatten()).view({n, len, t.hidden_size}) +
           text_positions_.narrow(0, 0, len);

  // HF's additive masks: finfo(float32).min above the diagonal, and on padded keys.
  const float kMin = std::numeric_limits<float>::lowest();
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(placement_.device);
  auto mask = torch::full({len, len}, kMin, opts).triu(1).view({1, 1, len, len});
  if (attention_mask.defined()) {
    auto keep = attention_mask.to(placement_.device).to(torch::kBool).view({n, 1, 1, len});
    mask = mask + torch::zeros({n, 1, 1, len}, opts).masked_fill(keep.logical_not(), kMin);
  }
  // HF pools at the first EOS (argmax of the ids for the legacy eos id 2).
  auto eos = t.eos_token_id == 2 ? ids.argmax(-1) : ids.eq(t.eos_token_id).to(torch::kInt).argmax(-1);
  auto batch = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(placement_.device));

  TextOutput out;
  std::vector<torch::Tensor> at_eos(text_layers_.size());
  for (size_t i = 0; i < text_layers_.size(); ++i) {
    bool any_attn = false, any_out = false;
    auto attn_rows = RowsForLayer(rows, &AdapterWeights::l_attn,
                                  &AdapterWeights::changes_text_encoder, i, &any_attn);
    auto out_rows = RowsForLayer(rows, &AdapterWeights::l_out,
                                 &AdapterWeights::changes_text_encoder, i, &any_out);
    h = EncoderLayerForward(text_layers_[i], h, mask, any_attn ? attn_rows.data() : nullptr,
                            any_out ? out_rows.data() : nullptr, n);
    at_eos[i] = h.index({batch, eos});
  }
  for (int64_t k : config_.extract_layers) {
    out.extract_eos.push_back(k < static_cast<int64_t>(at_eos.size()) ? at_eos[k]
                                                                       : torch::Tensor());
  }
  auto last = final_layernorm_(h);
  auto pooled = last.index({batch, eos});
  out.projected = torch::matmul(pooled, text_projection_.t());
  if (trace) {
    (*trace)("text_last_hidden_state", last);
    (*trace)("text_pooled", pooled);
  }
  return out;
}

torch::Tensor ClipSegModel::Condition(const TextOutput& text,
                                      const std::vector<const AdapterWeights*>& rows) const {
  const size_t n = rows.size();
  std::vector<const AdapterMlp*> cond_rows(n, nullptr);
  bool any_cond = false;
  for (size_t r = 0; r < n; ++r) {
    if (rows[r] != nullptr && rows[r]->cond) {
      cond_rows[r] = &rows[r]->cond_adapter;
      any_cond = true;
    }
  }
  auto cond = any_cond ? ApplyAdapterRows(text.projected, cond_rows) : text.projected;
  // Shallow L: cond += text_extract_adapters[i](raw text state at EOS), for
  // the rows that have them (a 0/1 row mask keeps the other rows exact).
  std::vector<float> has_l(n, 0.f);
  bool any_l = false;
  for (size_t r = 0; r < n; ++r) {
    if (rows[r] != nullptr && !rows[r]->dense && rows[r]->text) has_l[r] = 1.f, any_l = true;
  }
  if (!any_l) return cond;
  auto row_mask = torch::tensor(has_l, cond.options()).view({static_cast<int64_t>(n), 1});
  for (size_t i = 0; i < config_.extract_layers.size(); ++i) {
    std::vector<const AdapterMlp*> l_rows(n, nullptr);
    for (size_t r = 0; r < n; ++r) {
      if (has_l[r] != 0.f) l_rows[r] = &rows[r]->text_extract[i];
    }
    cond = cond + ApplyAdapterRows(text.extract_eos[i], l_rows) * row_mask;
  }
  return cond;
}

}  // namespace vlsm

namespace vlsm {

std::vector<torch::Tensor> ClipSegModel::AdaptExtracted(
    const std::vector<torch::Tensor>& extracted,
    const std::vector<const AdapterWeights*>& rows) const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < extracted.size(); ++i) {
    std::vector<const AdapterMlp*> v_rows(rows.size(), nullptr);
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r] != nullptr && !rows[r]->dense && rows[r]->vision) {
        v_rows[r] = &rows[r]->vision_extract[i];
      }
    }
    out.push_back(ApplyAdapterRows(extracted[i], v_rows));
  }
  return out;
}

std::vector<torch::Tensor> ClipSegModel::Reduce(const std::vector<torch::Tensor>& extracted) const {
  // The decoder consumes the extracted states deepest first; reduces[0]
  // belongs to the deepest one.
  std::vector<torch::Tensor> reduced;
  const size_t n = extracted.size();
  for (size_t i = 0; i < n; ++i) reduced.push_back(reduces_[i](extracted[n - 1 - i]));
  return reduced;
}

namespace {

// ConvTranspose2d with stride == kernel size (CLIPSeg's heads, padding 0):
// the kernel windows do not overlap, so it is one matrix product of every
// input pixel with the [Ci, Co*k*k] weight, each result row laid out as a
// k x k output block. Same sums as the convolution, in one GEMM for the
// whole batch (LibTorch's CPU transposed convolution loops over images).
torch::Tensor NonOverlappingConvTranspose(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias) {
  const int64_t n = x.size(0), ci = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t co = weight.size(1), kh = weight.size(2), kw = weight.size(3);
  auto rows = x.permute({0, 2, 3, 1}).reshape({n * h * w, ci});
  auto blocks = torch::mm(rows, weight.reshape({ci, co * kh * kw}));
  auto y = blocks.view({n, h, w, co, kh, kw}).permute({0, 3, 1, 4, 2, 5}).reshape(
      {n, co, h * kh, w * kw});
  return bias.defined() ? y + bias.view({1, co, 1, 1}) : y;
}

}  // namespace

torch::Tensor ClipSegModel::Decode(const std::vector<torch::Tensor>& reduced,
                                   const torch::Tensor& cond, const Trace* trace) const {
  TORCH_CHECK(reduced.size() == decoder_layers_.size(), "one reduced state per decoder layer");
  torch::Tensor out;
  for (size_t i = 0; i < decoder_layers_.size(); ++i) {
    out = i == 0 ? reduced[0] : reduced[i] + out;
    if (static_cast<int64_t>(i) == config_.conditional_layer) {
      out = film_mul_(cond).unsqueeze(1) * out + film_add_(cond).unsqueeze(1);
    }
    if (trace) (*trace)(absl::StrCat("decoder_layer_input.", i), out);
    const TransformerLayer& layer = decoder_layers_[i];
    out = layer.ln1(out + layer.Attention(out, {}));  // post-norm
    out = layer.ln2(out + layer.Mlp(out));
    if (trace) (*trace)(absl::StrCat("decoder_hidden.", i), out);
  }
  const int64_t n = out.size(0), tokens = out.size(1) - 1, r = out.size(2);
  const auto grid = static_cast<int64_t>(std::sqrt(static_cast<double>(tokens)));
  auto x = out.narrow(1, 1, tokens).permute({0, 2, 1}).reshape({n, r, grid, grid});
  if (trace) (*trace)("decoder_input", x);
  if (conv_weights_.size() == 3) {
    x = torch::relu(torch::conv2d(x, conv_weights_[0], conv_biases_[0], 1, 1));
    x = torch::relu(NonOverlappingConvTranspose(x, conv_weights_[1], conv_biases_[1]));
    x = NonOverlappingConvTranspose(x, conv_weights_[2], conv_biases_[2]);
  } else {
    x = NonOverlappingConvTranspose(x, conv_weights_[0], conv_biases_[0]);
  }
  return x.squeeze(1);
}

}  // namespace vlsm
