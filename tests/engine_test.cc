// The engine's serving behaviour: mixed-adapter batches equal rows run alone,
// one backbone pass per image, the condition cache, errors, thread safety.
#include "model/engine.h"

#include "model/clipseg_config.h"
#include "model/safetensors.h"

#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::Compare;
using test_support::LoadTinyCases;
using test_support::TestData;
using test_support::TinyModelDir;

constexpr double kMax = 1e-3, kMean = 2e-5;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Create(TinyModelDir(), EngineOptions{});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    cases_ = LoadTinyCases();
    for (const char* v :
         {"shallow_v", "shallow_vl", "shallow_vlc", "dense_v", "dense_vl", "dense_vlc"}) {
      auto a = engine_->LoadAdapter(TestData(std::string("clipseg-tiny/adapters/") + v +
                                             ".safetensors"));
      ASSERT_TRUE(a.ok()) << a.status();
      adapters_[v] = *a;
    }
  }

  // One query alone, on a fresh engine (no cache, no batch neighbours).
  HostTensor Alone(size_t image, size_t prompt, const std::string& adapter) {
    auto fresh = *Engine::Create(TinyModelDir(), EngineOptions{});
    std::shared_ptr<const Adapter> a;
    if (!adapter.empty()) {
      a = *fresh->LoadAdapter(TestData("clipseg-tiny/adapters/" + adapter + ".safetensors"));
    }
    auto out = fresh->Segment({cases_.images[image]}, {{0, cases_.prompts[prompt], a}});
    EXPECT_TRUE(out.ok()) << out.status();
    return (*out)[0];
  }

  SegmentQuery Query(size_t image, size_t prompt, const std::string& adapter) {
    return {image, cases_.prompts[prompt], adapter.empty() ? nullptr : adapters_.at(adapter)};
  }

  void ExpectClose(const HostTensor& got, const HostTensor& want, const std::string& what) {
    auto d = Compare(got, want);
    EXPECT_LE(d.max_abs, kMax) << what;
    EXPECT_LE(d.mean_abs, kMean) << what;
  }

  std::unique_ptr<Engine> engine_;
  test_support::TinyCases cases_;
  std::map<std::string, std::shared_ptr<const Adapter>> adapters_;
};

TEST_F(EngineTest, MixedAdapterBatchEqualsEachRowAlone) {
  // Shallow, dense, none, on shared and distinct images.
  std::vector<std::tuple<size_t, size_t, std::string>> rows = {
      {0, 0, "shallow_vlc"}, {1, 1, "dense_vlc"}, {2, 2, ""},         {0, 1, "dense_v"},
      {1, 2, "shallow_v"},   {2, 0, "dense_vl"},  {0, 2, "shallow_vl"}, {0, 0, ""}};
  std::vector<SegmentQuery> queries;
  for (auto& [img, prompt, adapter] : rows) queries.push_back(Query(img, prompt, adapter));
  SegmentStats stats;
  auto out = engine_->Segment(cases_.images, queries, &stats);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& [img, prompt, adapter] = rows[i];
    ExpectClose((*out)[i], Alone(img, prompt, adapter), "row " + std::to_string(i));
  }
  // Frozen backbone: images 0,1,2 once each, plus one row per (image, dense adapter).
  EXPECT_EQ(stats.vision_rows, 3 + 3);
}

TEST_F(EngineTest, MixedDenseAdaptersShareOneBatchedPass) {
  std::vector<SegmentQuery> queries = {Query(0, 0, "dense_v"), Query(0, 0, "dense_vl"),
                                       Query(0, 0, "dense_vlc"), Query(0, 0, "")};
  SegmentStats stats;
  auto out = engine_->Segment({cases_.images[0]}, queries, &stats);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(stats.vision_rows, 4);
  ExpectClose((*out)[0], Alone(0, 0, "dense_v"), "dense_v");
  ExpectClose((*out)[1], Alone(0, 0, "dense_vl"), "dense_vl");
  ExpectClose((*out)[2], Alone(0, 0, "dense_vlc"), "dense_vlc");
  ExpectClose((*out)[3], Alone(0, 0, ""), "base");
}

TEST_F(EngineTest, OneImageManyPromptsRunsTheBackboneOnce) {
  std::vector<SegmentQuery> queries = {Query(0, 0, ""), Query(0, 1, ""), Query(0, 2, ""),
                                       Query(0, 1, "shallow_vlc")};
  SegmentStats stats;
  auto out = engine_->Segment({cases_.images[0]}, queries, &stats);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(stats.vision_rows, 1);
  for (size_t p = 0; p < 3; ++p) ExpectClose((*out)[p], Alone(0, p, ""), "prompt");
  ExpectClose((*out)[3], Alone(0, 1, "shallow_vlc"), "shallow_vlc");
  // The prompts differ, so the masks must too.
  EXPECT_GT(Compare((*out)[0], (*out)[1]).max_abs, 0.1);
}

TEST_F(EngineTest, ConditionCacheIsKeyedByPromptAndTextAdapter) {
  auto first = engine_->Segment({cases_.images[0]}, {Query(0, 0, "")});
  ASSERT_TRUE(first.ok());
  SegmentStats stats;
  auto again = engine_->Segment({cases_.images[1]}, {Query(0, 0, ""), Query(0, 0, "shallow_v")},
                                &stats);
  ASSERT_TRUE(again.ok());
  // shallow_v does not touch the text path: both rows reuse the cached entry.
  EXPECT_EQ(stats.cache_hits, 2);
  EXPECT_EQ(stats.text_rows, 0);
  SegmentStats stats2;
  auto vl = engine_->Segment({cases_.images[1]}, {Query(0, 0, "shallow_vl")}, &stats2);
  ASSERT_TRUE(vl.ok());
  EXPECT_EQ(stats2.cache_hits, 0);
  EXPECT_EQ(stats2.text_rows, 1);
  ExpectClose((*vl)[0], Alone(1, 0, "shallow_vl"), "after cache");
}

TEST_F(EngineTest, PaddingAfterEosDoesNotChangeTheResult) {
  Prompt padded = cases_.prompts[1];
  Prompt trimmed = padded;
  auto eos = std::find(trimmed.input_ids.begin(), trimmed.input_ids.end(), 49407);
  const auto len = eos - trimmed.input_ids.begin() + 1;
  trimmed.input_ids.resize(len);
  trimmed.attention_mask.clear();
  auto a = engine_->Segment({cases_.images[1]}, {{0, padded, nullptr}});
  auto fresh = *Engine::Create(TinyModelDir(), EngineOptions{});
  auto b = fresh->Segment({cases_.images[1]}, {{0, trimmed, nullptr}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].data, (*b)[0].data);
}

TEST_F(EngineTest, DifferentImageSizesInOneCall) {
  // A 64x64 input uses the native 4x4 position grid (no interpolation).
  HostTensor small;
  small.shape = {3, 64, 64};
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) small.data.push_back(cases_.images[0].data[(c * 96 + y) * 96 + x]);
  auto out = engine_->Segment({cases_.images[0], small}, {Query(0, 0, ""), Query(1, 0, "")});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{96, 96}));
  EXPECT_EQ((*out)[1].shape, (std::vector<int64_t>{64, 64}));
  auto alone = engine_->Segment({small}, {Query(0, 0, "")});
  ASSERT_TRUE(alone.ok());
  ExpectClose((*out)[1], (*alone)[0], "64x64");
}

TEST_F(EngineTest, BadInputsAreInvalidArgument) {
  HostTensor not_square;
  not_square.shape = {3, 96, 80};
  not_square.data.assign(3 * 96 * 80, 0.f);
  auto r1 = engine_->Segment({not_square}, {Query(0, 0, "")});
  EXPECT_EQ(r1.status().code(), absl::StatusCode::kInvalidArgument);

  HostTensor wrong_size;
  wrong_size.shape = {3, 90, 90};  // not a multiple of the 16-pixel patch
  wrong_size.data.assign(3 * 90 * 90, 0.f);
  EXPECT_EQ(engine_->Segment({wrong_size}, {Query(0, 0, "")}).status().code(),
            absl::StatusCode::kInvalidArgument);

  HostTensor short_data = cases_.images[0];
  short_data.data.pop_back();
  EXPECT_EQ(engine_->Segment({short_data}, {Query(0, 0, "")}).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(engine_->Segment({cases_.images[0]}, {Query(1, 0, "")}).status().code(),
            absl::StatusCode::kInvalidArgument);

  SegmentQuery bad_token = Query(0, 0, "");
  bad_token.prompt.input_ids[2] = 49408;
  auto r2 = engine_->Segment({cases_.images[0]}, {bad_token});
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r2.status().message()), ::testing::HasSubstr("49408"));

  SegmentQuery too_long = Query(0, 0, "");
  too_long.prompt.input_ids.resize(78, 49407);
  too_long.prompt.attention_mask.clear();
  EXPECT_EQ(engine_->Segment({cases_.images[0]}, {too_long}).status().code(),
            absl::StatusCode::kInvalidArgument);

  SegmentQuery empty = Query(0, 0, "");
  empty.prompt.input_ids.clear();
  EXPECT_EQ(engine_->Segment({cases_.images[0]}, {empty}).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Nothing was disturbed: a good call still matches.
  auto ok = engine_->Segment({cases_.images[2]}, {Query(0, 2, "dense_vlc")});
  ASSERT_TRUE(ok.ok());
  ExpectClose((*ok)[0], Alone(2, 2, "dense_vlc"), "after errors");
}

TEST_F(EngineTest, ConcurrentCallsGiveTheSameResults) {
  auto expected = engine_->Segment(cases_.images, {Query(0, 0, "dense_vl"), Query(1, 1, ""),
                                                   Query(2, 2, "shallow_vlc")});
  ASSERT_TRUE(expected.ok());
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<std::vector<HostTensor>>> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      results[t] = engine_->Segment(cases_.images, {Query(0, 0, "dense_vl"), Query(1, 1, ""),
                                                    Query(2, 2, "shallow_vlc")});
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    for (size_t i = 0; i < 3; ++i) ExpectClose((*r)[i], (*expected)[i], "thread");
  }
}

bool CpuHasAvx512Bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) return line.find("avx512_bf16") != std::string::npos;
  }
  return false;
}

double MaskIoU(const HostTensor& a, const HostTensor& b) {
  int64_t inter = 0, uni = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const bool x = a.data[i] > 0, y = b.data[i] > 0;
    inter += x && y;
    uni += x || y;
  }
  return uni == 0 ? 1.0 : static_cast<double>(inter) / uni;
}

// bfloat16 (oneDNN) keeps the masks: IoU >= 0.99 against float32 for the
// base model and every adapter variant.
TEST(EngineBf16Test, MasksMatchFloat32) {
  if (!CpuHasAvx512Bf16()) GTEST_SKIP() << "CPU lacks avx512_bf16";
  EngineOptions bf16;
  bf16.dtype = "bfloat16";
  auto fast = Engine::Create(TinyModelDir(), bf16);
  ASSERT_TRUE(fast.ok()) << fast.status();
  auto exact = *Engine::Create(TinyModelDir(), EngineOptions{});
  auto cases = LoadTinyCases();
  for (const std::string v : {"", "shallow_v", "shallow_vl", "shallow_vlc", "dense_v", "dense_vl",
                              "dense_vlc"}) {
    std::shared_ptr<const Adapter> a32, a16;
    if (!v.empty()) {
      const std::string path = TestData("clipseg-tiny/adapters/" + v + ".safetensors");
      a32 = *exact->LoadAdapter(path);
      a16 = *(*fast)->LoadAdapter(path);
    }
    std::vector<SegmentQuery> q32, q16;
    for (size_t i = 0; i < 3; ++i) {
      q32.push_back({i, cases.prompts[i], a32});
      q16.push_back({i, cases.prompts[i], a16});
    }
    auto r32 = exact->Segment(cases.images, q32);
    auto r16 = (*fast)->Segment(cases.images, q16);
    ASSERT_TRUE(r32.ok() && r16.ok());
    for (size_t i = 0; i < 3; ++i) {
      const double iou = MaskIoU((*r16)[i], (*r32)[i]);
      EXPECT_GE(iou, 0.99) << (v.empty() ? "base" : v) << " row " << i;
      ::testing::Test::RecordProperty("iou_" + (v.empty() ? "base" : v) + "_" + std::to_string(i),
                                      std::to_string(iou));
    }
    // bf16 really ran: logits differ from float32 somewhere.
    EXPECT_GT(Compare((*r16)[0], (*r32)[0]).max_abs, 0.0);
  }
}

// use_complex_transposed_convolution = false: one ConvTranspose2d(reduce_dim,
// 1, patch, stride patch). Checked against that product computed here from
// the traced decoder input and the written weights.
TEST(EngineArchitectureTest, SimpleTransposedConvolutionHead) {
  auto config = *LoadClipSegConfig(TinyModelDir() + "/config.json");
  config.use_complex_transposed_convolution = false;
  const std::string dir = test_support::UniqueTempPath("simple_head_model");
  ASSERT_TRUE(Engine::WriteRandomModel(config, 7, dir).ok());
  auto engine = Engine::Create(dir, EngineOptions{});
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto cases = LoadTinyCases();
  std::map<std::string, HostTensor> trace;
  TraceSink sink = [&](const std::string& name, const HostTensor& t) { trace[name] = t; };
  auto out = (*engine)->Segment({cases.images[0]}, {{0, cases.prompts[0], nullptr}}, nullptr, &sink);
  ASSERT_TRUE(out.ok()) << out.status();
  const HostTensor& logits = (*out)[0];
  ASSERT_EQ(logits.shape, (std::vector<int64_t>{96, 96}));

  auto weights = *SafetensorsFile::Open(dir + "/model.safetensors");
  HostTensor w = test_support::ReadFloat(*weights, "decoder.transposed_convolution.weight");
  HostTensor b = test_support::ReadFloat(*weights, "decoder.transposed_convolution.bias");
  ASSERT_EQ(w.shape, (std::vector<int64_t>{16, 1, 16, 16}));
  const HostTensor& in = trace.at("decoder_input");  // [1, 16, 6, 6]
  ASSERT_EQ(in.shape, (std::vector<int64_t>{1, 16, 6, 6}));
  double max_diff = 0;
  for (int y = 0; y < 96; ++y) {
    for (int x = 0; x < 96; ++x) {
      double v = b.data[0];
      for (int c = 0; c < 16; ++c) {
        v += in.data[(c * 6 + y / 16) * 6 + x / 16] * w.data[(c * 16 + y % 16) * 16 + x % 16];
      }
      max_diff = std::max(max_diff, std::abs(v - logits.data[y * 96 + x]));
    }
  }
  EXPECT_LE(max_diff, 1e-4);
}

TEST(EngineCreateTest, Errors) {
  EXPECT_EQ(Engine::Create("/nonexistent", EngineOptions{}).status().code(),
            absl::StatusCode::kNotFound);
  EngineOptions bad_device;
  bad_device.device = "tpu";
  EXPECT_EQ(Engine::Create(TinyModelDir(), bad_device).status().code(),
            absl::StatusCode::kInvalidArgument);
  EngineOptions bad_dtype;
  bad_dtype.dtype = "int8";
  EXPECT_EQ(Engine::Create(TinyModelDir(), bad_dtype).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm
