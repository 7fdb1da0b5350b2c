// Torch building blocks of CLIPSeg (internal to model/: includes torch).
//
// All functions are pure given their weights; weights are immutable after
// load, so any number of threads may run them concurrently.
#ifndef VLSM_MODEL_LAYERS_H_
#define VLSM_MODEL_LAYERS_H_

#include <torch/torch.h>

#include <vector>

namespace vlsm {

// How the large matrix products run.
enum class MatmulBackend {
  kDefault,       // torch::linear (BLAS on CPU, cuBLAS on CUDA)
  kOneDnnFp32,    // oneDNN inner product reading the dense weights in place (CPU)
  kOneDnnBf16,    // same in bfloat16, float32 in and out (CPU)
};

struct Linear {
  torch::Tensor weight;  // [out, in], contiguous (oneDNN reads it in place)
  torch::Tensor bias;    // [out] or undefined
  MatmulBackend backend = MatmulBackend::kDefault;
  int64_t in_dim = 0, out_dim = 0;
  // kOneDnnFp32: products with fewer multiply-adds than this go to
  // torch::linear, because oneDNN's per-call layout conversions cost more
  // than such small products (e.g. one image through a tiny model).
  int64_t onednn_min_work = kOneDnnMinWork;
  static constexpr int64_t kOneDnnMinWork = 1 << 19;

  // Prepares the weight for `backend`: float32 weights stay where they are
  // (e.g. a view of the mapped file); bfloat16 converts them once.
  void Prepare(MatmulBackend backend);
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t in_features() const { return in_dim; }
  int64_t out_features() const { return out_dim; }
};

struct LayerNorm {
  torch::Tensor weight, bias;
  double eps = 1e-5;
  torch::Tensor operator()(const torch::Tensor& x) const;
};

enum class Activation { kQuickGelu, kGelu, kRelu };
torch::Tensor Activate(Activation act, const torch::Tensor& x);

// CLIP attention + MLP layer. Encoder layers are pre-norm; the decoder's are
// post-norm with a ReLU MLP.
struct TransformerLayer {
  LayerNorm ln1, ln2;
  Linear qkv;  // q, k, v projections fused as [3*D, D]
  Linear out_proj, fc1, fc2;
  int64_t num_heads = 1;
  Activation act = Activation::kQuickGelu;
  // CPU: per-head oneDNN products spread over threads (BLAS batched matmul
  // is several times slower on the full-size model's shapes) when one head's
  // q k^T has at least `onednn_attention_min_work` multiply-adds; below that
  // the per-call conversions cost more than the products, and one batched
  // matmul over all rows and heads is faster (small models, short prompts).
  bool onednn_attention = false;
  int64_t onednn_attention_min_work = kOneDnnAttentionMinWork;
  static constexpr int64_t kOneDnnAttentionMinWork = 1 << 17;

  // softmax(q k^T * head_dim^-0.5 + mask) v, heads concatenated, out_proj.
  torch::Tensor Attention(const torch::Tensor& x, const torch::Tensor& additive_mask) const;
  torch::Tensor Mlp(const torch::Tensor& x) const;
};

// Houlsby adapter of vlsm-adapter: x + relu(fc2(relu(fc1(x)))).
struct AdapterMlp {
  torch::Tensor fc1_w, fc1_b;  // [r, D], [r]
  torch::Tensor fc2_w, fc2_b;  // [D, r], [D]
  bool onednn = false;         // CPU: run the products through oneDNN
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t dim() const { return fc1_w.size(0); }
};

// Applies a possibly different adapter to each row of x ([N, ..., D]); a null
// entry leaves its row unchanged. Rows sharing one adapter run as a plain
// MLP. Mixed rows: on CUDA their weights are gathered per row (zero-padded to
// the widest adapter, which is exact: padded units are relu(0) = 0) into
// batched matmuls; on CPU the rows of each adapter run as one oneDNN product
// (faster there than BLAS's batched matmul) and are scattered back.
torch::Tensor ApplyAdapterRows(const torch::Tensor& x, const std::vector<const AdapterMlp*>& rows);

}  // namespace vlsm

#endif  // VLSM_MODEL_LAYERS_H_
