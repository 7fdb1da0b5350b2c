// Trainable base and adapter tensors: gradients reach exactly the tensors
// being trained (adapters only in adapter mode, every base tensor in full
// mode), the frozen base stays bit-for-bit unchanged over optimizer steps,
// and the trainable forward equals the engine's.
#include "model/train_model.h"

#include <cstring>
#include <filesystem>

#include "gtest/gtest.h"
#include "model/engine.h"
#include "model/safetensors.h"
#include "model/train_adapter.h"
#include "model/train_loss.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::TinyModelDir;

struct Inputs {
  torch::Tensor pixels, ids, target;
};

Inputs MakeInputs(const ClipSegConfig& config) {
  torch::manual_seed(3);
  Inputs in;
  in.pixels = torch::randn({2, 3, 96, 96});
  // BOS, two tokens, EOS (CLIP ids), padded with EOS.
  in.ids = torch::tensor({49406, 320, 1929, 49407, 49407, 49406, 1125, 49407, 49407, 49407},
                         torch::kLong)
               .view({2, 5});
  in.target = (torch::rand({2, 96, 96}) > 0.7).to(torch::kFloat);
  EXPECT_EQ(config.text.eos_token_id, 49407);
  return in;
}

class TrainModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainModelTest, AdapterGradientsOnlyAndTheBaseStaysBitForBit) {
  auto model = TrainModel::Load(TinyModelDir(), torch::kCPU, /*trainable=*/false);
  ASSERT_TRUE(model.ok()) << model.status();
  auto spec = ParseAdapterVariant(GetParam(), 8);
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto adapter = TrainAdapter::Init(*spec, (*model)->config(), 1, torch::kCPU);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  std::vector<torch::Tensor> before;
  for (const auto& [name, t] : (*model)->tensors()) before.push_back(t.clone());

  auto view = (*model)->View();
  ASSERT_TRUE(view.ok()) << view.status();
  const Inputs in = MakeInputs((*model)->config());
  auto params = (*adapter)->parameters();
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-2).weight_decay(1e-3));
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    auto loss =
        DiceCeLoss(SegmentForward(**view, &(*adapter)->weights(), in.pixels, in.ids), in.target);
    loss.backward();
    for (const auto& [name, t] : (*adapter)->tensors()) {
      ASSERT_TRUE(t.grad().defined()) << name;
      EXPECT_GT(t.grad().abs().sum().item<double>(), 0) << name;
    }
    opt.step();
  }
  size_t i = 0;
  for (const auto& [name, t] : (*model)->tensors()) {
    EXPECT_FALSE(t.requires_grad()) << name;
    EXPECT_FALSE(t.grad().defined()) << name;
    EXPECT_TRUE(torch::equal(t, before[i++])) << name << " changed";
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, TrainModelTest,
                         ::testing::Values("shallow_v", "shallow_vl", "shallow_vlc", "dense_v",
                                           "dense_vl", "dense_vlc"));

TEST(TrainModelFullTest, EveryBaseTensorGetsAGradientThroughTheFusedProjections) {
  auto model = TrainModel::Load(TinyModelDir(), torch::kCPU, /*trainable=*/true);
  ASSERT_TRUE(model.ok()) << model.status();
  auto view = (*model)->View();
  ASSERT_TRUE(view.ok());
  const Inputs in = MakeInputs((*model)->config());
  DiceCeLoss(SegmentForward(**view, nullptr, in.pixels, in.ids), in.target).backward();
  for (const auto& [name, t] : (*model)->tensors()) {
    ASSERT_TRUE(t.grad().defined()) << name;
  }
  // q, k and v reach their own leaves (the fused product is built per view).
  for (const char* n : {"clip.vision_model.encoder.layers.0.self_attn.q_proj.weight",
                        "clip.text_model.encoder.layers.0.self_attn.v_proj.weight",
                        "decoder.layers.0.self_attn.k_proj.weight"}) {
    bool found = false;
    for (const auto& [name, t] : (*model)->tensors()) {
      if (name == n) {
        found = true;
        EXPECT_GT(t.grad().abs().sum().item<double>(), 0) << n;
      }
    }
    EXPECT_TRUE(found) << n;
  }
}

TEST(TrainModelFullTest, TrainableForwardEqualsTheEngineAndSaveRoundTrips) {
  auto model = TrainModel::Load(TinyModelDir(), torch::kCPU, /*trainable=*/true);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string dir = test_support::UniqueTempPath("train_model_saved");
  ASSERT_TRUE((*model)->Save(dir).ok());
  auto engine = Engine::Create(dir, EngineOptions{});
  ASSERT_TRUE(engine.ok()) << engine.status();
  // Every tensor the engine reads, byte for byte (the source file also has
  // tensors the engine never reads, which a trained model does not carry).
  auto saved = SafetensorsFile::Open(dir + "/model.safetensors");
  auto original = SafetensorsFile::Open(TinyModelDir() + "/model.safetensors");
  ASSERT_TRUE(saved.ok() && original.ok());
  EXPECT_EQ((*saved)->tensors().size(), (*model)->tensors().size());
  for (const TensorView& t : (*saved)->tensors()) {
    const TensorView* o = (*original)->Find(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    EXPECT_EQ(t.shape, o->shape) << t.name;
    EXPECT_EQ(std::memcmp(t.data, o->data, t.nbytes), 0) << t.name;
  }

  const Inputs in = MakeInputs((*model)->config());
  auto view = (*model)->View();
  ASSERT_TRUE(view.ok());
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = SegmentForward(**view, nullptr, in.pixels, in.ids);
  }
  std::vector<HostTensor> images;
  std::vector<SegmentQuery> queries;
  for (int i = 0; i < 2; ++i) {
    auto px = in.pixels[i].contiguous();
    images.push_back(
        {{3, 96, 96}, std::vector<float>(px.data_ptr<float>(), px.data_ptr<float>() + px.numel())});
    auto ids = in.ids[i].contiguous();
    queries.push_back(
        {static_cast<size_t>(i),
         Prompt{std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + 5), {}},
         nullptr});
  }
  auto logits = (*engine)->Segment(images, queries);
  ASSERT_TRUE(logits.ok()) << logits.status();
  for (int i = 0; i < 2; ++i) {
    auto want = torch::from_blob((*logits)[i].data.data(), {96, 96});
    EXPECT_TRUE(torch::allclose(ours[i], want, 1e-4, 1e-4))
        << (ours[i] - want).abs().max().item<float>();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vlsm
