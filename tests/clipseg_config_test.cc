// ClipSegConfig: parsing HF config.json (full and hub "use_diff" style),
// CLIPSegConfig defaults, Rd64Refined(), and validation errors.
#include "model/clipseg_config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vlsm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kTiny = std::string(VLSM_TESTDATA) + "/clipseg-tiny";

// Every field of the two configs, compared one by one (no operator== on the struct).
void ExpectSameConfig(const ClipSegConfig& a, const ClipSegConfig& b) {
  EXPECT_EQ(a.text.vocab_size, b.text.vocab_size);
  EXPECT_EQ(a.text.hidden_size, b.text.hidden_size);
  EXPECT_EQ(a.text.intermediate_size, b.text.intermediate_size);
  EXPECT_EQ(a.text.num_hidden_layers, b.text.num_hidden_layers);
  EXPECT_EQ(a.text.num_attention_heads, b.text.num_attention_heads);
  EXPECT_EQ(a.text.max_position_embeddings, b.text.max_position_embeddings);
  EXPECT_EQ(a.text.hidden_act, b.text.hidden_act);
  EXPECT_EQ(a.text.layer_norm_eps, b.text.layer_norm_eps);
  EXPECT_EQ(a.text.pad_token_id, b.text.pad_token_id);
  EXPECT_EQ(a.text.bos_token_id, b.text.bos_token_id);
  EXPECT_EQ(a.text.eos_token_id, b.text.eos_token_id);
  EXPECT_EQ(a.vision.hidden_size, b.vision.hidden_size);
  EXPECT_EQ(a.vision.intermediate_size, b.vision.intermediate_size);
  EXPECT_EQ(a.vision.num_hidden_layers, b.vision.num_hidden_layers);
  EXPECT_EQ(a.vision.num_attention_heads, b.vision.num_attention_heads);
  EXPECT_EQ(a.vision.num_channels, b.vision.num_channels);
  EXPECT_EQ(a.vision.image_size, b.vision.image_size);
  EXPECT_EQ(a.vision.patch_size, b.vision.patch_size);
  EXPECT_EQ(a.vision.hidden_act, b.vision.hidden_act);
  EXPECT_EQ(a.vision.layer_norm_eps, b.vision.layer_norm_eps);
  EXPECT_EQ(a.projection_dim, b.projection_dim);
  EXPECT_EQ(a.extract_layers, b.extract_layers);
  EXPECT_EQ(a.reduce_dim, b.reduce_dim);
  EXPECT_EQ(a.decoder_num_attention_heads, b.decoder_num_attention_heads);
  EXPECT_EQ(a.decoder_intermediate_size, b.decoder_intermediate_size);
  EXPECT_EQ(a.conditional_layer, b.conditional_layer);
  EXPECT_EQ(a.use_complex_transposed_convolution, b.use_complex_transposed_convolution);
}

void ExpectTinyValues(const ClipSegConfig& c) {
  EXPECT_EQ(c.vision.hidden_size, 48);
  EXPECT_EQ(c.text.hidden_size, 20);
  EXPECT_EQ(c.vision.num_hidden_layers, 4);
  EXPECT_EQ(c.text.num_hidden_layers, 4);
  EXPECT_EQ(c.vision.num_attention_heads, 2);
  EXPECT_EQ(c.text.num_attention_heads, 2);
  EXPECT_EQ(c.vision.intermediate_size, 96);
  EXPECT_EQ(c.text.intermediate_size, 64);
  EXPECT_EQ(c.vision.image_size, 64);
  EXPECT_EQ(c.vision.patch_size, 16);
  EXPECT_EQ(c.vision.num_channels, 3);
  EXPECT_EQ(c.projection_dim, 20);
  EXPECT_THAT(c.extract_layers, ElementsAre(1, 2, 3));
  EXPECT_EQ(c.reduce_dim, 16);
  EXPECT_EQ(c.decoder_num_attention_heads, 2);
  EXPECT_EQ(c.decoder_intermediate_size, 32);
  EXPECT_EQ(c.conditional_layer, 0);
  EXPECT_TRUE(c.use_complex_transposed_convolution);
  EXPECT_EQ(c.vision.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.text.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.text.eos_token_id, 49407);
  EXPECT_EQ(c.text.bos_token_id, 49406);
  EXPECT_EQ(c.text.pad_token_id, 1);
  EXPECT_EQ(c.text.vocab_size, 49408);
  EXPECT_EQ(c.text.max_position_embeddings, 77);
  EXPECT_EQ(c.text.hidden_act, "quick_gelu");
  EXPECT_EQ(c.vision.hidden_act, "quick_gelu");
  EXPECT_EQ(c.vision_layers_needed(), 4);
}

TEST(ClipSegConfigTest, FullAndHubStyleConfigsGiveTheSameValues) {
  auto full = LoadClipSegConfig(kTiny + "/config.json");
  ASSERT_TRUE(full.ok()) << full.status();
  auto hub = LoadClipSegConfig(kTiny + "/config.hub_style.json");
  ASSERT_TRUE(hub.ok()) << hub.status();
  ExpectTinyValues(*full);
  ExpectTinyValues(*hub);
  ExpectSameConfig(*full, *hub);
}

TEST(ClipSegConfigTest, EmptyObjectGivesCidasDefaults) {
  auto c = ParseClipSegConfig("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vision.hidden_size, 768);
  EXPECT_EQ(c->vision.num_hidden_layers, 12);
  EXPECT_EQ(c->vision.num_attention_heads, 12);
  EXPECT_EQ(c->vision.intermediate_size, 3072);
  EXPECT_EQ(c->vision.patch_size, 32);
  EXPECT_EQ(c->vision.image_size, 224);
  EXPECT_EQ(c->text.hidden_size, 512);
  EXPECT_EQ(c->text.num_hidden_layers, 12);
  EXPECT_EQ(c->text.num_attention_heads, 8);
  EXPECT_EQ(c->text.intermediate_size, 2048);
  EXPECT_EQ(c->text.eos_token_id, 49407);
  EXPECT_EQ(c->projection_dim, 512);
  EXPECT_THAT(c->extract_layers, ElementsAre(3, 6, 9));
  EXPECT_EQ(c->reduce_dim, 64);
  EXPECT_EQ(c->decoder_num_attention_heads, 4);
  EXPECT_EQ(c->decoder_intermediate_size, 2048);
  EXPECT_EQ(c->conditional_layer, 0);
  EXPECT_FALSE(c->use_complex_transposed_convolution);
  EXPECT_EQ(c->vision_layers_needed(), 10);
  // A default-constructed config is the same thing.
  ExpectSameConfig(*c, ClipSegConfig{});
}

TEST(ClipSegConfigTest, Rd64Refined) {
  ClipSegConfig c = ClipSegConfig::Rd64Refined();
  EXPECT_EQ(c.vision.patch_size, 16);
  EXPECT_EQ(c.vision.image_size, 224);
  EXPECT_TRUE(c.use_complex_transposed_convolution);
  EXPECT_EQ(c.reduce_dim, 64);
  EXPECT_THAT(c.extract_layers, ElementsAre(3, 6, 9));
  EXPECT_EQ(c.vision.hidden_size, 768);
  EXPECT_EQ(c.text.hidden_size, 512);
  EXPECT_EQ(c.projection_dim, 512);
}

TEST(ClipSegConfigTest, VisionLayersNeededIsMaxExtractPlusOne) {
  auto c = ParseClipSegConfig(R"({"extract_layers": [5, 2, 7, 1]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vision_layers_needed(), 8);
  auto last = ParseClipSegConfig(R"({"extract_layers": [11]})");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->vision_layers_needed(), 12);
  auto first = ParseClipSegConfig(R"({"extract_layers": [0]})");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->vision_layers_needed(), 1);
}

TEST(ClipSegConfigTest, PartialOverridesKeepOtherDefaults) {
  auto c = ParseClipSegConfig(
      R"({"model_type": "clipseg", "vision_config": {"patch_size": 16}, "text_config": {"num_hidden_layers": 6}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vision.patch_size, 16);
  EXPECT_EQ(c->vision.hidden_size, 768);
  EXPECT_EQ(c->text.num_hidden_layers, 6);
  EXPECT_EQ(c->text.hidden_size, 512);
  // null values keep the defaults too (HF writes e.g. "eos_token_id": null).
  auto n = ParseClipSegConfig(R"({"reduce_dim": null, "text_config": {"eos_token_id": null}})");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->reduce_dim, 64);
  EXPECT_EQ(n->text.eos_token_id, 49407);
}

void ExpectInvalid(const std::string& json, const std::vector<std::string>& substrings) {
  auto c = ParseClipSegConfig(json);
  ASSERT_FALSE(c.ok()) << json;
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  for (const std::string& s : substrings) {
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(s)) << json;
  }
}

TEST(ClipSegConfigTest, NotJson) { ExpectInvalid("{not json", {"JSON object"}); }
TEST(ClipSegConfigTest, EmptyText) { ExpectInvalid("", {"JSON object"}); }
TEST(ClipSegConfigTest, JsonArray) { ExpectInvalid("[1, 2, 3]", {"JSON object"}); }

TEST(ClipSegConfigTest, WrongModelType) {
  ExpectInvalid(R"({"model_type": "bert"})", {"bert", "clipseg"});
}

TEST(ClipSegConfigTest, ExtractLayerOutsideTheEncoder) {
  ExpectInvalid(R"({"extract_layers": [3, 6, 12], "vision_config": {"num_hidden_layers": 12}})",
                {"extract layer 12", "12 layers"});
  ExpectInvalid(R"({"extract_layers": [-1, 2]})", {"extract layer -1"});
  ExpectInvalid(R"({"extract_layers": []})", {"extract_layers"});
}

TEST(ClipSegConfigTest, HeadsNotDividingHidden) {
  ExpectInvalid(R"({"vision_config": {"hidden_size": 50, "num_attention_heads": 3}})",
                {"divisible"});
  ExpectInvalid(R"({"text_config": {"hidden_size": 20, "num_attention_heads": 3}})",
                {"divisible"});
  ExpectInvalid(R"({"reduce_dim": 16, "decoder_num_attention_heads": 3})", {"divisible"});
}

TEST(ClipSegConfigTest, ConditionalLayerOutOfRange) {
  ExpectInvalid(R"({"extract_layers": [1, 2, 3], "conditional_layer": 3})",
                {"conditional_layer"});
  ExpectInvalid(R"({"conditional_layer": -1})", {"conditional_layer"});
  auto ok = ParseClipSegConfig(R"({"extract_layers": [1, 2, 3], "conditional_layer": 2})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->conditional_layer, 2);
}

TEST(ClipSegConfigTest, UnsupportedActivation) {
  ExpectInvalid(R"({"text_config": {"hidden_act": "swish"}})", {"hidden_act", "swish"});
  ExpectInvalid(R"({"vision_config": {"hidden_act": "swish"}})", {"hidden_act", "swish"});
  auto gelu = ParseClipSegConfig(R"({"vision_config": {"hidden_act": "gelu"}})");
  ASSERT_TRUE(gelu.ok()) << gelu.status();
  EXPECT_EQ(gelu->vision.hidden_act, "gelu");
}

TEST(ClipSegConfigTest, WrongValueType) {
  ExpectInvalid(R"({"vision_config": {"hidden_size": "768"}})", {"hidden_size"});
  ExpectInvalid(R"({"reduce_dim": "64"})", {"reduce_dim"});
  ExpectInvalid(R"({"extract_layers": "3,6,9"})", {"extract_layers"});
  ExpectInvalid(R"({"extract_layers": [3, "6", 9]})", {"extract_layers"});
  ExpectInvalid(R"({"use_complex_transposed_convolution": "yes"})",
                {"use_complex_transposed_convolution"});
  ExpectInvalid(R"({"text_config": {"layer_norm_eps": "1e-5"}})", {"layer_norm_eps"});
  ExpectInvalid(R"({"model_type": 5})", {"model_type"});
}

TEST(ClipSegConfigTest, NonPositiveSizes) {
  ExpectInvalid(R"({"vision_config": {"patch_size": 0}})", {"vision_config.patch_size", "= 0"});
  ExpectInvalid(R"({"text_config": {"num_hidden_layers": -2}})",
                {"text_config.num_hidden_layers", "-2"});
  ExpectInvalid(R"({"reduce_dim": 1e30})", {"reduce_dim", "integer"});
}

TEST(ClipSegConfigTest, FractionsWhereIntegersBelong) {
  ExpectInvalid(R"({"vision_config": {"hidden_size": 48.5}})",
                {"vision_config.hidden_size", "integer"});
  ExpectInvalid(R"({"extract_layers": [1.7, 2, 3]})", {"extract_layers", "integers"});
}

TEST(ClipSegConfigTest, SubConfigMustBeAnObject) {
  ExpectInvalid(R"({"text_config": 5})", {"text_config", "object"});
  ExpectInvalid(R"({"vision_config": []})", {"vision_config", "object"});
}

TEST(ClipSegConfigTest, LayerNormEpsMustBePositive) {
  ExpectInvalid(R"({"vision_config": {"layer_norm_eps": -1}})", {"layer_norm_eps"});
}

TEST(ClipSegConfigTest, OnlyThreeChannels) {
  ExpectInvalid(R"({"vision_config": {"num_channels": 1}})", {"3-channel"});
}

TEST(ClipSegConfigTest, MissingFileIsNotFound) {
  auto c = LoadClipSegConfig(kTiny + "/does_not_exist.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("does_not_exist.json"));
}

}  // namespace
}  // namespace vlsm

namespace vlsm {
namespace {

TEST(ClipSegConfigJsonTest, RoundTrips) {
  ClipSegConfig c = ClipSegConfig::Rd64Refined();
  c.extract_layers = {2, 5};
  c.conditional_layer = 1;
  c.text.eos_token_id = 3;
  c.vision.layer_norm_eps = 1e-6;
  auto back = ParseClipSegConfig(ClipSegConfigToJson(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->extract_layers, c.extract_layers);
  EXPECT_EQ(back->conditional_layer, 1);
  EXPECT_EQ(back->text.eos_token_id, 3);
  EXPECT_EQ(back->vision.patch_size, 16);
  EXPECT_DOUBLE_EQ(back->vision.layer_norm_eps, 1e-6);
  EXPECT_TRUE(back->use_complex_transposed_convolution);
  EXPECT_EQ(back->text.hidden_size, c.text.hidden_size);
}

}  // namespace
}  // namespace vlsm
