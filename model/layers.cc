#include "model/layers.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace vlsm {

void Linear::Prepare(MatmulBackend b) {
  backend = b;
  out_dim = weight.size(0);
  in_dim = weight.size(1);
  if (b == MatmulBackend::kDefault) return;
  auto dtype = b == MatmulBackend::kOneDnnBf16 ? torch::kBFloat16 : torch::kFloat;
  weight = weight.to(dtype).contiguous();
  if (bias.defined()) bias = bias.to(dtype).contiguous();
}

namespace {

torch::Tensor OneDnnLinear(const torch::Tensor& x2d, const torch::Tensor& weight,
                           const torch::Tensor& bias) {
  return at::mkldnn_linear(x2d.contiguous().to_mkldnn(), weight,
                           bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt)
      .to_dense();
}

}  // namespace

torch::Tensor Linear::operator()(const torch::Tensor& x) const {
  if (backend == MatmulBackend::kDefault) {
    if (weight.scalar_type() == x.scalar_type()) return torch::linear(x, weight, bias);
    return torch::linear(x.to(weight.scalar_type()), weight, bias).to(x.scalar_type());
  }
  const bool bf16 = backend == MatmulBackend::kOneDnnBf16;
  if (!bf16 && x.numel() * out_dim < onednn_min_work) return torch::linear(x, weight, bias);
  auto sizes = x.sizes().vec();
  auto x2 = x.reshape({-1, sizes.back()});
  if (bf16) x2 = x2.to(torch::kBFloat16);
  auto y = OneDnnLinear(x2, weight, bias);
  if (bf16) y = y.to(torch::kFloat);
  sizes.back() = out_features();
  return y.view(sizes);
}

torch::Tensor LayerNorm::operator()(const torch::Tensor& x) const {
  return torch::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

torch::Tensor Activate(Activation act, const torch::Tensor& x) {
  switch (act) {
    case Activation::kQuickGelu:
      return x * torch::sigmoid(1.702 * x);
    case Activation::kGelu:
      return torch::gelu(x);
    case Activation::kRelu:
      return torch::relu(x);
  }
  return x;
}

namespace {

// softmax(q k^T + mask) v for q, k, v [N, H, T, hd] (q already scaled); one
// oneDNN inner product per (row, head), heads spread over the intra-op
// threads.
torch::Tensor OneDnnAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& mask) {
  const int64_t n = q.size(0), h = q.size(1), t = q.size(2), hd = q.size(3);
  auto qc = q.contiguous(), kc = k.contiguous();
  auto vt = v.transpose(-1, -2).contiguous();  // [N, H, hd, T]: the weight of probs @ v
  auto out = torch::empty({n, h, t, hd}, q.options());
  at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
    c10::InferenceMode guard;  // thread-local: worker threads need their own
    for (int64_t i = begin; i < end; ++i) {
      const int64_t row = i / h, head = i % h;
      auto scores = at::mkldnn_linear(qc[row][head].to_mkldnn(), kc[row][head], {})
                        .to_dense();
      if (mask.defined()) scores = scores + mask[mask.size(0) == 1 ? 0 : row][0];
      auto probs = torch::softmax(scores, -1);
      out[row][head].copy_(
          at::mkldnn_linear(probs.to_mkldnn(), vt[row][head], {}).to_dense());
    }
  });
  return out;
}

}  // namespace

torch::Tensor TransformerLayer::Attention(const torch::Tensor& x,
                                          const torch::Tensor& additive_mask) const {
  const int64_t n = x.size(0), t = x.size(1), d = x.size(2);
  const int64_t head_dim = d / num_heads;
  auto qkv_out = qkv(x).view({n, t, 3, num_heads, head_dim}).permute({2, 0, 3, 1, 4});
  auto q = qkv_out[0] * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  auto k = qkv_out[1];
  auto v = qkv_out[2];
  torch::Tensor ctx;
  if (onednn_attention && t * t * head_dim >= onednn_attention_min_work) {
    ctx = OneDnnAttention(q, k, v, additive_mask);
  } else {
    auto scores = torch::matmul(q, k.transpose(-1, -2));
    if (additive_mask.defined()) scores = scores + additive_mask;
    ctx = torch::matmul(torch::softmax(scores, -1), v);
  }
  ctx = ctx.transpose(1, 2).reshape({n, t, d});
  return out_proj(ctx);
}

torch::Tensor TransformerLayer::Mlp(const torch::Tensor& x) const {
  return fc2(Activate(act, fc1(x)));
}

torch::Tensor AdapterMlp::operator()(const torch::Tensor& x) const {
  if (!onednn || x.numel() * dim() < Linear::kOneDnnMinWork) {
    auto h = torch::relu(torch::linear(x, fc1_w, fc1_b));
    return x + torch::relu(torch::linear(h, fc2_w, fc2_b));
  }
  auto x2 = x.reshape({-1, x.size(-1)});
  auto h = torch::relu(OneDnnLinear(x2, fc1_w, fc1_b));
  return x + torch::relu(OneDnnLinear(h, fc2_w, fc2_b)).view(x.sizes());
}

torch::Tensor ApplyAdapterRows(const torch::Tensor& x, const std::vector<const AdapterMlp*>& rows) {
  TORCH_CHECK(static_cast<int64_t>(rows.size()) == x.size(0), "adapter rows do not match batch");
  const bool all_same = std::all_of(rows.begin(), rows.end(),
                                    [&](const AdapterMlp* a) { return a == rows.front(); });
  if (all_same) return rows.front() == nullptr ? x : (*rows.front())(x);

  if (x.device().is_cpu()) {
    // Group rows by adapter: one oneDNN product per distinct adapter.
    auto out = x.clone();
    std::vector<const AdapterMlp*> seen;
    for (const AdapterMlp* a : rows) {
      if (a == nullptr || std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
      seen.push_back(a);
      std::vector<int64_t> idx;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i] == a) idx.push_back(static_cast<int64_t>(i));
      }
      auto index = torch::tensor(idx, torch::kLong);
      out.index_copy_(0, index, (*a)(x.index_select(0, index)));
    }
    return out;
  }

  int64_t r = 0;
  const AdapterMlp* any = nullptr;
  for (const AdapterMlp* a : rows) {
    if (a != nullptr) {
      r = std::max(r, a->dim());
      any = a;
    }
  }
  const int64_t n = x.size(0), d = x.size(-1);
  auto opts = any->fc1_w.options();
  auto w1 = torch::zeros({n, r, d}, opts), b1 = torch::zeros({n, r}, opts);
  auto w2 = torch::zeros({n, d, r}, opts), b2 = torch::zeros({n, d}, opts);
  for (int64_t i = 0; i < n; ++i) {
    const AdapterMlp* a = rows[i];
    if (a == nullptr) continue;
    const int64_t ri = a->dim();
    w1[i].narrow(0, 0, ri).copy_(a->fc1_w);
    b1[i].narrow(0, 0, ri).copy_(a->fc1_b);
    w2[i].narrow(1, 0, ri).copy_(a->fc2_w);
    b2[i].copy_(a->fc2_b);
  }
  auto x3 = x.reshape({n, -1, d});
  auto h = torch::relu(torch::baddbmm(b1.unsqueeze(1), x3, w1.transpose(1, 2)));
  auto y = torch::relu(torch::baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2)));
  // Rows without an adapter have all-zero weights: relu(0) = 0 leaves them exact.
  return (x3 + y).view(x.sizes());
}

}  // namespace vlsm
