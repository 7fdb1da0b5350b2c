// model/layers' two ways of running each product: oneDNN (large products)
// and plain torch ops (small ones, below a work threshold). The parity tests
// run the tiny model, whose products are mostly small, so both paths are
// forced here on the same inputs and must agree. Includes torch through
// model/layers.h, the internal header under test.
#include "model/layers.h"

#include <ATen/Config.h>

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace vlsm {
namespace {

constexpr int64_t kAlways = 0;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

void ExpectClose(const torch::Tensor& a, const torch::Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-4f);
}

class LayersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch without oneDNN";
    torch::manual_seed(7);
  }
  c10::InferenceMode inference_;
};

TEST_F(LayersTest, LinearOneDnnAndTorchAgreeOnSmallAndLargeProducts) {
  for (const auto& [rows, in, out] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 20, 20}, {37, 48, 144}, {600, 96, 256}}) {
    Linear linear;
    linear.weight = torch::randn({out, in});
    linear.bias = torch::randn({out});
    linear.Prepare(MatmulBackend::kOneDnnFp32);
    const torch::Tensor x = torch::randn({2, rows, in});
    linear.onednn_min_work = kAlways;
    const torch::Tensor onednn = linear(x);
    linear.onednn_min_work = kNever;
    const torch::Tensor plain = linear(x);
    ExpectClose(onednn, plain);
    ExpectClose(plain, torch::linear(x, linear.weight, linear.bias));
  }
}

TEST_F(LayersTest, DefaultThresholdPicksTorchForSmallAndOneDnnForLargeProducts) {
  // The threshold is a speed choice only; the results stay the same.
  Linear linear;
  linear.weight = torch::randn({64, 64});
  linear.Prepare(MatmulBackend::kOneDnnFp32);
  const torch::Tensor small = torch::randn({4, 64});    // 16k multiply-adds
  const torch::Tensor large = torch::randn({512, 64});  // 2M multiply-adds
  ASSERT_LT(small.numel() * 64, Linear::kOneDnnMinWork);
  ASSERT_GE(large.numel() * 64, Linear::kOneDnnMinWork);
  ExpectClose(linear(small), torch::linear(small, linear.weight));
  ExpectClose(linear(large), torch::linear(large, linear.weight));
}

TEST_F(LayersTest, AttentionOneDnnAndBatchedMatmulAgree) {
  for (const auto& [tokens, dim, heads] :
       {std::tuple<int64_t, int64_t, int64_t>{37, 48, 2}, {80, 64, 4}}) {
    TransformerLayer layer;
    layer.num_heads = heads;
    layer.qkv.weight = torch::randn({3 * dim, dim}) * 0.2;
    layer.qkv.bias = torch::randn({3 * dim});
    layer.out_proj.weight = torch::randn({dim, dim}) * 0.2;
    layer.out_proj.bias = torch::randn({dim});
    for (Linear* l : {&layer.qkv, &layer.out_proj}) l->Prepare(MatmulBackend::kOneDnnFp32);
    layer.onednn_attention = true;
    const torch::Tensor x = torch::randn({3, tokens, dim});
    // A causal additive mask, as the text encoder uses, broadcast over rows.
    const torch::Tensor mask =
        torch::full({tokens, tokens}, -1e9f).triu(1).view({1, 1, tokens, tokens});
    for (const torch::Tensor& m : {torch::Tensor(), mask}) {
      layer.onednn_attention_min_work = kAlways;
      const torch::Tensor onednn = layer.Attention(x, m);
      layer.onednn_attention_min_work = kNever;
      ExpectClose(onednn, layer.Attention(x, m));
    }
  }
}

TEST_F(LayersTest, AdapterMlpOneDnnAndTorchAgree) {
  AdapterMlp mlp{torch::randn({16, 48}), torch::randn({16}), torch::randn({48, 16}),
                 torch::randn({48}), /*onednn=*/true};
  for (const int64_t rows : {1, 2000}) {  // below and above the work threshold
    const torch::Tensor x = torch::randn({rows, 48});
    AdapterMlp plain = mlp;
    plain.onednn = false;
    ExpectClose(mlp(x), plain(x));
  }
}

}  // namespace
}  // namespace vlsm
