// Parity of the engine with the HF/vlsm-adapter reference on clipseg-tiny:
// logits of the base model and all six adapter variants, and intermediates.
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/engine.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::Compare;
using test_support::LoadTinyCases;
using test_support::ReadFloat;
using test_support::TestData;
using test_support::TinyModelDir;

// Reference tolerances (tests/data/clipseg-tiny/README.md, "Tolerances").
constexpr double kLogitsMax = 1e-3, kLogitsMean = 2e-5, kIntermediateRel = 1e-4;

struct VariantRun {
  std::vector<HostTensor> logits;
  std::map<std::string, HostTensor> trace;
};

VariantRun RunVariant(const std::string& adapter_path, const std::string& dtype = "float32") {
  EngineOptions options;
  options.dtype = dtype;
  auto engine = Engine::Create(TinyModelDir(), options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  std::shared_ptr<const Adapter> adapter;
  if (!adapter_path.empty()) {
    auto a = (*engine)->LoadAdapter(adapter_path);
    EXPECT_TRUE(a.ok()) << a.status();
    adapter = *a;
  }
  auto cases = LoadTinyCases();
  std::vector<SegmentQuery> queries;
  for (size_t i = 0; i < cases.images.size(); ++i) queries.push_back({i, cases.prompts[i], adapter});
  VariantRun run;
  TraceSink sink = [&](const std::string& name, const HostTensor& t) { run.trace[name] = t; };
  auto logits = (*engine)->Segment(cases.images, queries, nullptr, &sink);
  EXPECT_TRUE(logits.ok()) << logits.status();
  if (logits.ok()) run.logits = *logits;
  return run;
}

void ExpectLogitsMatch(const std::vector<HostTensor>& logits, const std::string& variant) {
  auto cases = LoadTinyCases();
  HostTensor ref = ReadFloat(*cases.file, "logits." + variant);
  ASSERT_EQ(logits.size(), 3u);
  auto d = Compare(test_support::Stack(logits), ref);
  EXPECT_LE(d.max_abs, kLogitsMax) << variant;
  EXPECT_LE(d.mean_abs, kLogitsMean) << variant;
  ::testing::Test::RecordProperty(variant + "_max_abs", std::to_string(d.max_abs));
}

void ExpectIntermediate(const VariantRun& run, const std::string& ours, const std::string& reference) {
  auto cases = LoadTinyCases();
  HostTensor ref = ReadFloat(*cases.file, reference);
  ASSERT_FALSE(ref.shape.empty()) << reference;
  auto it = run.trace.find(ours);
  ASSERT_NE(it, run.trace.end()) << "no trace " << ours;
  auto d = Compare(it->second, ref);
  EXPECT_LE(d.max_abs, kIntermediateRel * std::max(1.0, d.max_ref)) << reference;
}

TEST(ParityTest, BaseLogitsAndIntermediates) {
  VariantRun run = RunVariant("");
  ExpectLogitsMatch(run.logits, "base");
  for (const char* name :
       {"pos_embedding_interpolated", "vision_embeddings", "vision_hidden.pre", "vision_hidden.1",
        "vision_hidden.2", "vision_hidden.3", "text_pooled",
        "conditional_embeddings", "decoder_layer_input.0", "decoder_hidden.0",
        "decoder_layer_input.1", "decoder_hidden.1", "decoder_layer_input.2", "decoder_hidden.2",
        "decoder_input"}) {
    ExpectIntermediate(run, name, std::string("base.") + name);
  }
}

// Text states up to each row's EOS (later positions are padding whose
// values the logits never see; the engine stops the text encoder at EOS).
TEST(ParityTest, TextHiddenStatesUpToEos) {
  VariantRun run = RunVariant("");
  auto cases = LoadTinyCases();
  HostTensor ref = ReadFloat(*cases.file, "base.text_last_hidden_state");  // [3, 77, 20]
  const HostTensor& got = run.trace.at("text_last_hidden_state");          // [3, L, 20]
  const int64_t hidden = ref.shape[2];
  for (int64_t b = 0; b < 3; ++b) {
    const auto& ids = cases.prompts[b].input_ids;
    const int64_t eos = std::find(ids.begin(), ids.end(), 49407) - ids.begin();
    ASSERT_LT(eos, got.shape[1]);
    for (int64_t t = 0; t <= eos; ++t) {
      for (int64_t h = 0; h < hidden; ++h) {
        const float g = got.data[(b * got.shape[1] + t) * hidden + h];
        const float r = ref.data[(b * ref.shape[1] + t) * hidden + h];
        ASSERT_NEAR(g, r, kIntermediateRel * 4) << "row " << b << " position " << t;
      }
    }
  }
}

TEST(ParityTest, BaseMaskMatchesWhereLogitsAreClear) {
  VariantRun run = RunVariant("");
  auto cases = LoadTinyCases();
  const TensorView* mask = cases.file->Find("mask.base");
  ASSERT_NE(mask, nullptr);
  const auto* m = static_cast<const uint8_t*>(mask->data);
  int64_t i = 0, compared = 0;
  for (const HostTensor& l : run.logits) {
    for (float v : l.data) {
      if (std::abs(v) > 1e-3) {
        EXPECT_EQ(v > 0 ? 1 : 0, m[i]) << "pixel " << i;
        ++compared;
      }
      ++i;
    }
  }
  EXPECT_GT(compared, 3 * 96 * 96 * 9 / 10);
}

class VariantParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VariantParityTest, LogitsAndAdaptedStates) {
  const std::string v = GetParam();
  VariantRun run = RunVariant(TestData("clipseg-tiny/adapters/" + v + ".safetensors"));
  ExpectLogitsMatch(run.logits, v);
  ExpectIntermediate(run, "conditional_embeddings", v + ".conditional_embeddings");
  for (int k : {1, 2, 3}) {
    ExpectIntermediate(run, "decoder_activation." + std::to_string(k),
                       v + ".decoder_activation." + std::to_string(k));
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, VariantParityTest,
                         ::testing::Values("shallow_v", "shallow_vl", "shallow_vlc", "dense_v",
                                           "dense_vl", "dense_vlc"));

TEST(ParityTest, ConvertedCheckpointGivesTheSameLogits) {
  VariantRun converted = RunVariant(VLSM_CONVERTED_ADAPTER);
  VariantRun reference = RunVariant(TestData("clipseg-tiny/adapters/shallow_vlc.safetensors"));
  ASSERT_EQ(converted.logits.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(converted.logits[i].data, reference.logits[i].data);
  ExpectLogitsMatch(converted.logits, "shallow_vlc");
}

}  // namespace
}  // namespace vlsm
