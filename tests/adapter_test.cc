// Loading VLSM-Adapter files into the engine: the six reference variants,
// metadata, every kind of broken file (built in memory from the real files'
// tensors), other adapter dims, F16/BF16 weights, and isolation of failures.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/adapter.h"
#include "model/engine.h"
#include "model/safetensors.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using ::testing::HasSubstr;
using test_support::Compare;
using test_support::LoadTinyCases;
using test_support::ReadFloat;
using test_support::TestData;
using test_support::TinyModelDir;

std::string AdapterPath(const std::string& variant) {
  return TestData("clipseg-tiny/adapters/" + variant + ".safetensors");
}

// ---------------------------------------------------------------------------
// Number formats.

uint16_t FloatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  x += 0x7fffu + ((x >> 16) & 1u);  // round to nearest even (finite inputs)
  return static_cast<uint16_t>(x >> 16);
}

float Bf16ToFloat(uint16_t h) {
  uint32_t x = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// IEEE binary16, round to nearest even (finite inputs; overflow -> inf).
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {  // subnormal half (or zero)
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into the exponent
  return static_cast<uint16_t>(sign | half);
}

float HalfToFloat(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ffu;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400u), exp - 25);
  }
  return (h & 0x8000u) ? -v : v;
}

TEST(NumberFormatTest, ConvertersAreExactWhereTheyShouldBe) {
  for (float f : {0.f, 1.f, -1.f, 0.5f, 3.f / 64, -19.f / 64, 6.103515625e-05f}) {
    EXPECT_EQ(HalfToFloat(FloatToHalf(f)), f) << f;
    EXPECT_EQ(Bf16ToFloat(FloatToBf16(f)), f) << f;
  }
  EXPECT_EQ(FloatToHalf(65504.f), 0x7bff);  // largest finite half
  EXPECT_EQ(FloatToBf16(65504.f), 0x4780);  // 65504 rounds up to 65536 in bf16
  EXPECT_EQ(FloatToHalf(1.f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.f), 0xc000);
  EXPECT_EQ(FloatToHalf(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(1.f + 1.f / 2048), 0x3c00);          // tie -> even
  EXPECT_EQ(FloatToHalf(1.f + 3.f / 2048), 0x3c02);          // tie -> even (up)
  EXPECT_EQ(FloatToBf16(1.f), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.f + 1.f / 256), 0x3f80);  // tie -> even
  EXPECT_EQ(FloatToBf16(1.f + 3.f / 256), 0x3f82);  // tie -> even (up)
}

// ---------------------------------------------------------------------------
// An editable, self-owning copy of a safetensors file.

struct OwnedTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string bytes;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::vector<float> floats() const {
    EXPECT_EQ(dtype, DType::kF32) << name;
    std::vector<float> out(numel());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  void set_floats(std::vector<int64_t> new_shape, const std::vector<float>& values) {
    dtype = DType::kF32;
    shape = std::move(new_shape);
    bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
};

struct TensorSet {
  std::vector<OwnedTensor> tensors;
  std::map<std::string, std::string> metadata;

  static TensorSet Load(const std::string& path) {
    TensorSet set;
    auto file = SafetensorsFile::Open(path);
    EXPECT_TRUE(file.ok()) << path << ": " << file.status();
    if (!file.ok()) return set;
    for (const TensorView& v : (*file)->tensors()) {
      set.tensors.push_back(
          {v.name, v.dtype, v.shape, std::string(static_cast<const char*>(v.data), v.nbytes)});
    }
    set.metadata = (*file)->metadata();
    return set;
  }

  OwnedTensor* Find(const std::string& name) {
    for (auto& t : tensors) {
      if (t.name == name) return &t;
    }
    ADD_FAILURE() << "test bug: no tensor " << name;
    return nullptr;
  }
  void Remove(const std::string& name) {
    const size_t before = tensors.size();
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [&](const OwnedTensor& t) { return t.name == name; }),
                  tensors.end());
    EXPECT_EQ(tensors.size(), before - 1) << "test bug: no tensor " << name;
  }
  void Append(const TensorSet& other) {
    tensors.insert(tensors.end(), other.tensors.begin(), other.tensors.end());
  }
  int64_t numel() const {
    int64_t n = 0;
    for (const auto& t : tensors) n += t.numel();
    return n;
  }

  std::string Serialize() const {
    std::vector<TensorView> views;
    for (const auto& t : tensors) {
      TensorView v;
      v.name = t.name;
      v.dtype = t.dtype;
      v.shape = t.shape;
      v.data = t.bytes.data();
      v.nbytes = t.bytes.size();
      views.push_back(std::move(v));
    }
    auto bytes = SerializeSafetensors(views, metadata);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : std::string();
  }
};

// ---------------------------------------------------------------------------

class AdapterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto engine = Engine::Create(TinyModelDir(), EngineOptions{});
    if (engine.ok()) {
      engine_ = engine->release();
    } else {
      ADD_FAILURE() << engine.status();
    }
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(engine_, nullptr); }

  static const Engine& engine() { return *engine_; }

  static std::shared_ptr<const Adapter> MustLoad(const std::string& path) {
    auto a = engine_->LoadAdapter(path);
    EXPECT_TRUE(a.ok()) << path << ": " << a.status();
    return a.ok() ? *a : nullptr;
  }
  static std::shared_ptr<const Adapter> MustParse(const TensorSet& set) {
    auto a = engine_->ParseAdapter(set.Serialize());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : nullptr;
  }

  // Expects ParseAdapter(set) to fail with `code` and every substring.
  static void ExpectRejected(const std::string& bytes, absl::StatusCode code,
                             const std::vector<std::string>& substrings) {
    auto a = engine_->ParseAdapter(bytes);
    ASSERT_FALSE(a.ok()) << "accepted; expected " << absl::StatusCodeToString(code);
    EXPECT_EQ(a.status().code(), code) << a.status();
    for (const std::string& s : substrings) {
      EXPECT_THAT(std::string(a.status().message()), HasSubstr(s));
    }
  }
  static void ExpectRejected(const TensorSet& set, absl::StatusCode code,
                             const std::vector<std::string>& substrings) {
    ExpectRejected(set.Serialize(), code, substrings);
  }

  // Logits of the three reference rows with `adapter` (null = base).
  static std::vector<HostTensor> Run(const std::shared_ptr<const Adapter>& adapter) {
    auto cases = LoadTinyCases();
    std::vector<SegmentQuery> queries;
    for (size_t i = 0; i < cases.images.size(); ++i) queries.push_back({i, cases.prompts[i], adapter});
    auto logits = engine_->Segment(cases.images, queries);
    EXPECT_TRUE(logits.ok()) << logits.status();
    return logits.ok() ? *logits : std::vector<HostTensor>{};
  }

  static inline Engine* engine_ = nullptr;
};

// ---------------------------------------------------------------------------
// The six reference files.

struct VariantCase {
  std::string variant;
  bool dense;
  std::string targets;
  int64_t cond_dim;
  int64_t params;  // computed by hand from the README's tensor lists
  size_t tensors;
};

void PrintTo(const VariantCase& c, std::ostream* os) { *os << c.variant; }

class AdapterVariantTest : public AdapterTest, public ::testing::WithParamInterface<VariantCase> {};

TEST_P(AdapterVariantTest, LoadsWithTheRightSpec) {
  const VariantCase& c = GetParam();
  TensorSet file = TensorSet::Load(AdapterPath(c.variant));
  ASSERT_EQ(file.tensors.size(), c.tensors);
  auto a = MustLoad(AdapterPath(c.variant));
  ASSERT_NE(a, nullptr);
  const AdapterSpec& spec = a->spec();
  EXPECT_EQ(spec.variant(), c.variant);
  EXPECT_EQ(spec.targets(), c.targets);
  EXPECT_EQ(spec.dense, c.dense);
  EXPECT_TRUE(spec.vision);
  EXPECT_EQ(spec.text, c.targets.find('L') != std::string::npos);
  EXPECT_EQ(spec.cond, c.targets.find('C') != std::string::npos);
  EXPECT_EQ(spec.adapter_dim, 8);
  EXPECT_EQ(spec.cond_adapter_dim, c.cond_dim);
  EXPECT_EQ(a->num_parameters(), file.numel());
  EXPECT_EQ(a->num_parameters(), c.params);
  EXPECT_EQ(a->bytes(), c.params * 4);
  // The file's own metadata is kept verbatim.
  EXPECT_EQ(a->metadata().raw, file.metadata);
  EXPECT_EQ(a->metadata().raw.at("variant"), c.variant);
  EXPECT_TRUE(a->metadata().prompts.empty());
  EXPECT_FLOAT_EQ(a->metadata().threshold, 0.5f);
  EXPECT_EQ(a->metadata().base_fingerprint, "");

  // Loading from memory gives the same thing.
  auto b = engine().ParseAdapter(file.Serialize());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->spec().variant(), c.variant);
  EXPECT_EQ((*b)->num_parameters(), c.params);
}

// shallow: 3 x V(8x48+8+48x8+48 = 824), 3 x L(8x20+8+20x8+20 = 348), C(256x20+256+20x256+20 = 10516)
// dense:   6 x V, 6 x L, C
INSTANTIATE_TEST_SUITE_P(
    AllVariants, AdapterVariantTest,
    ::testing::Values(VariantCase{"shallow_v", false, "V", 0, 3 * 824, 12},
                      VariantCase{"shallow_vl", false, "VL", 0, 3 * 824 + 3 * 348, 24},
                      VariantCase{"shallow_vlc", false, "VLC", 256, 3 * 824 + 3 * 348 + 10516, 28},
                      VariantCase{"dense_v", true, "V", 0, 6 * 824, 24},
                      VariantCase{"dense_vl", true, "VL", 0, 6 * 824 + 6 * 348, 48},
                      VariantCase{"dense_vlc", true, "VLC", 256, 6 * 824 + 6 * 348 + 10516, 52}),
    [](const ::testing::TestParamInfo<VariantCase>& info) { return info.param.variant; });

TEST_F(AdapterTest, UidIsUniquePerLoad) {
  std::set<uint64_t> uids;
  for (const char* v : {"shallow_v", "shallow_vl", "shallow_vlc", "dense_v", "dense_vl", "dense_vlc"}) {
    for (int i = 0; i < 2; ++i) {  // the same file twice gives two adapters
      auto a = MustLoad(AdapterPath(v));
      ASSERT_NE(a, nullptr);
      EXPECT_NE(a->uid(), 0u);
      EXPECT_TRUE(uids.insert(a->uid()).second) << v << " uid " << a->uid();
    }
  }
  auto parsed = engine().ParseAdapter(TensorSet::Load(AdapterPath("shallow_v")).Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(uids.insert((*parsed)->uid()).second);
  EXPECT_EQ(uids.size(), 13u);
}

// ---------------------------------------------------------------------------
// Metadata.

TEST_F(AdapterTest, MetadataIsParsed) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_vlc"));
  set.metadata["task"] = "polyp";
  set.metadata["prompts"] = R"(["a round polyp", "pink \"bump\" in the colon"])";
  set.metadata["threshold"] = "0.35";
  set.metadata["base_fingerprint"] = engine().fingerprint();
  set.metadata["base_model"] = "clipseg-tiny";
  set.metadata["source"] = "adapter_test";
  auto a = MustParse(set);
  ASSERT_NE(a, nullptr);
  const AdapterMetadata& m = a->metadata();
  EXPECT_EQ(m.task, "polyp");
  EXPECT_EQ(m.prompts, (std::vector<std::string>{"a round polyp", "pink \"bump\" in the colon"}));
  EXPECT_FLOAT_EQ(m.threshold, 0.35f);
  EXPECT_EQ(m.base_fingerprint, engine().fingerprint());
  EXPECT_EQ(m.base_model, "clipseg-tiny");
  EXPECT_EQ(m.source, "adapter_test");
  EXPECT_EQ(m.raw, set.metadata);
  EXPECT_EQ(m.raw.at("variant"), "shallow_vlc");
  EXPECT_EQ(a->spec().variant(), "shallow_vlc");
}

TEST_F(AdapterTest, EmptyPromptListIsFine) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  set.metadata["prompts"] = "[]";
  auto a = MustParse(set);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->metadata().prompts.empty());
}

TEST_F(AdapterTest, BadPromptsMetadata) {
  for (const char* prompts : {R"(["a polyp", )", R"("a polyp")", R"({"a": "b"})", R"(["a", 3])"}) {
    SCOPED_TRACE(prompts);
    TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
    set.metadata["prompts"] = prompts;
    ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"prompts"});
  }
}

TEST_F(AdapterTest, BadThresholdMetadata) {
  for (const char* threshold : {"1.5", "abc", "0", "1", "-0.25", "nan"}) {
    SCOPED_TRACE(threshold);
    TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
    set.metadata["threshold"] = threshold;
    ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                   {"threshold", absl::StrCat("'", threshold, "'")});
  }
}

TEST_F(AdapterTest, VariantMetadataContradictingTheTensors) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  set.metadata["variant"] = "dense_v";
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"'dense_v'", "shallow_v"});
  set.metadata["variant"] = "shallow_vl";
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"'shallow_vl'", "shallow_v"});
}

TEST_F(AdapterTest, AdapterDimMetadataContradictingTheTensors) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  set.metadata["adapter_dim"] = "16";
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"adapter_dim 16", "have 8"});
}

TEST_F(AdapterTest, TargetFlagMetadataContradictingTheTensors) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  set.metadata["adapter_in_l"] = "true";
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"adapter_in_l"});
  set = TensorSet::Load(AdapterPath("dense_vlc"));
  set.metadata["adapter_in_cond"] = "false";
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"adapter_in_cond"});
}

TEST_F(AdapterTest, BaseFingerprintOfAnotherModel) {
  // Another model: clipseg-tiny with clip.logit_scale changed, in a temp dir.
  const std::string dir = test_support::UniqueTempPath("adapter_test_other_model");
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  TensorSet model = TensorSet::Load(TestData("clipseg-tiny/model.safetensors"));
  OwnedTensor* scale = model.Find("clip.logit_scale");
  ASSERT_NE(scale, nullptr);
  scale->set_floats({}, {1.5f});
  ASSERT_TRUE(WriteFileAtomically(dir + "/model.safetensors", model.Serialize()).ok());
  {
    std::ifstream in(TestData("clipseg-tiny/config.json"), std::ios::binary);
    std::stringstream config;
    config << in.rdbuf();
    ASSERT_TRUE(WriteFileAtomically(dir + "/config.json", config.str()).ok());
  }
  auto other = Engine::Create(dir, EngineOptions{});
  ASSERT_TRUE(other.ok()) << other.status();
  const std::string other_fp = (*other)->fingerprint();
  ASSERT_NE(other_fp, engine().fingerprint());
  ASSERT_EQ(other_fp.rfind("sha256:", 0), 0u) << other_fp;
  ASSERT_EQ(engine().fingerprint().rfind("sha256:", 0), 0u) << engine().fingerprint();

  TensorSet set = TensorSet::Load(AdapterPath("dense_vl"));
  set.metadata["base_fingerprint"] = other_fp;
  ExpectRejected(set, absl::StatusCode::kFailedPrecondition, {other_fp, engine().fingerprint()});
  // ... and the other model accepts it.
  auto a = (*other)->ParseAdapter(set.Serialize());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->metadata().base_fingerprint, other_fp);
  // The reverse: an adapter made for this engine is refused by the other one.
  set.metadata["base_fingerprint"] = engine().fingerprint();
  auto refused = (*other)->ParseAdapter(set.Serialize());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

// ---------------------------------------------------------------------------
// Broken files.

TEST_F(AdapterTest, WrongShapeNamesTensorAndBothShapes) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_vl"));
  OwnedTensor* t = set.Find("vision_extract_adapters.1.fc2.weight");
  ASSERT_NE(t, nullptr);
  t->set_floats({47, 8}, std::vector<float>(47 * 8, 0.01f));
  ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                 {"vision_extract_adapters.1.fc2.weight", "[48, 8]", "[47, 8]"});
}

TEST_F(AdapterTest, WrongShapeOfFc1AndBias) {
  {
    TensorSet set = TensorSet::Load(AdapterPath("dense_vl"));
    OwnedTensor* t = set.Find("l_out_adapters.2.fc1.weight");
    ASSERT_NE(t, nullptr);
    t->set_floats({8, 48}, std::vector<float>(8 * 48, 0.01f));  // vision width on a text adapter
    ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                   {"l_out_adapters.2.fc1.weight", "[8, 20]", "[8, 48]"});
  }
  {
    TensorSet set = TensorSet::Load(AdapterPath("shallow_vlc"));
    OwnedTensor* t = set.Find("cond_adapter.fc2.bias");
    ASSERT_NE(t, nullptr);
    t->set_floats({20, 1}, std::vector<float>(20, 0.01f));
    ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                   {"cond_adapter.fc2.bias", "[20]", "[20, 1]"});
  }
}

TEST_F(AdapterTest, MissingTensor) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_vl"));
  set.Remove("text_extract_adapters.2.fc1.bias");
  ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                 {"text_extract_adapters.2.fc1.bias", "missing", "[8]"});
  TensorSet no_weight = TensorSet::Load(AdapterPath("shallow_vl"));
  no_weight.Remove("text_extract_adapters.2.fc1.weight");
  ExpectRejected(no_weight, absl::StatusCode::kInvalidArgument,
                 {"text_extract_adapters.2.fc1.weight", "missing"});
}

TEST_F(AdapterTest, UnknownTensorName) {
  for (const char* name : {"foo.bar", "vision_extract_adapters.0.fc3.weight",
                           "vision_extract_adapters.x.fc1.weight", "cond_adapter.fc1.gamma",
                           "net.vision_extract_adapters.0.fc1.weight"}) {
    SCOPED_TRACE(name);
    TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
    OwnedTensor extra = set.tensors.front();
    extra.name = name;
    set.tensors.push_back(extra);
    ExpectRejected(set, absl::StatusCode::kInvalidArgument, {name});
  }
}

TEST_F(AdapterTest, IndexBeyondTheBaseModel) {
  {
    TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
    for (const char* leaf : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}) {
      OwnedTensor t = *set.Find(absl::StrCat("vision_extract_adapters.2.", leaf));
      t.name = absl::StrCat("vision_extract_adapters.3.", leaf);
      set.tensors.push_back(t);
    }
    ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"vision_extract_adapters.3."});
  }
  {
    TensorSet set = TensorSet::Load(AdapterPath("dense_v"));
    for (const char* leaf : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}) {
      OwnedTensor t = *set.Find(absl::StrCat("v_attn_adapters.0.", leaf));
      t.name = absl::StrCat("v_attn_adapters.3.", leaf);
      set.tensors.push_back(t);
    }
    ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"v_attn_adapters.3."});
  }
}

TEST_F(AdapterTest, ShallowAndDenseMixed) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  set.Append(TensorSet::Load(AdapterPath("dense_v")));
  ExpectRejected(set, absl::StatusCode::kInvalidArgument, {"shallow", "dense"});
}

TEST_F(AdapterTest, NoVisionAdapters) {
  TensorSet full = TensorSet::Load(AdapterPath("shallow_vlc"));
  TensorSet cond_only;
  for (const auto& t : full.tensors) {
    if (t.name.rfind("cond_adapter.", 0) == 0) cond_only.tensors.push_back(t);
  }
  ASSERT_EQ(cond_only.tensors.size(), 4u);
  ExpectRejected(cond_only, absl::StatusCode::kInvalidArgument, {"vision"});

  TensorSet text_only;
  for (const auto& t : full.tensors) {
    if (t.name.rfind("text_extract_adapters.", 0) == 0) text_only.tensors.push_back(t);
  }
  ASSERT_EQ(text_only.tensors.size(), 12u);
  ExpectRejected(text_only, absl::StatusCode::kInvalidArgument, {"vision"});
}

TEST_F(AdapterTest, NonFiniteWeights) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    SCOPED_TRACE(bad);
    TensorSet set = TensorSet::Load(AdapterPath("dense_vlc"));
    OwnedTensor* t = set.Find("l_attn_adapters.1.fc2.weight");
    ASSERT_NE(t, nullptr);
    std::vector<float> values = t->floats();
    values[37] = bad;
    t->set_floats(t->shape, values);
    ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                   {"l_attn_adapters.1.fc2.weight", "non-finite"});
  }
}

TEST_F(AdapterTest, IntegerDtype) {
  TensorSet set = TensorSet::Load(AdapterPath("shallow_v"));
  OwnedTensor* t = set.Find("vision_extract_adapters.0.fc1.bias");
  ASSERT_NE(t, nullptr);
  std::vector<int64_t> ints(8, 1);
  t->dtype = DType::kI64;
  t->bytes.assign(reinterpret_cast<const char*>(ints.data()), ints.size() * sizeof(int64_t));
  ExpectRejected(set, absl::StatusCode::kInvalidArgument,
                 {"vision_extract_adapters.0.fc1.bias", "I64"});
}

TEST_F(AdapterTest, EmptyFile) {
  TensorSet empty;
  ExpectRejected(empty, absl::StatusCode::kInvalidArgument, {"no tensors"});
  empty.metadata["variant"] = "shallow_v";
  ExpectRejected(empty, absl::StatusCode::kInvalidArgument, {"no tensors"});
}

TEST_F(AdapterTest, GarbageBytes) {
  ExpectRejected(std::string("this is not a safetensors file, just some text"),
                 absl::StatusCode::kInvalidArgument, {});
  ExpectRejected(std::string("abc"), absl::StatusCode::kInvalidArgument, {});
  ExpectRejected(std::string(), absl::StatusCode::kInvalidArgument, {});
  // A valid file cut short.
  std::string bytes = TensorSet::Load(AdapterPath("shallow_v")).Serialize();
  ExpectRejected(bytes.substr(0, bytes.size() - 100), absl::StatusCode::kInvalidArgument, {});
}

TEST_F(AdapterTest, MissingPathIsNotFound) {
  auto a = engine().LoadAdapter(TestData("clipseg-tiny/adapters/nope.safetensors"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound) << a.status();
}

// ---------------------------------------------------------------------------
// Other adapter dims and dtypes.

// A dense_v adapter with adapter_dim `r` and random weights U(-scale, scale).
TensorSet RandomDenseV(int64_t r, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  auto random = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  const int64_t d = 48;
  TensorSet set;
  for (const char* module : {"v_attn_adapters", "v_out_adapters"}) {
    for (int i = 0; i < 3; ++i) {
      const std::string p = absl::StrCat(module, ".", i, ".");
      OwnedTensor t;
      t.name = p + "fc1.weight";
      t.set_floats({r, d}, random(r * d));
      set.tensors.push_back(t);
      t.name = p + "fc1.bias";
      t.set_floats({r}, random(r));
      set.tensors.push_back(t);
      t.name = p + "fc2.weight";
      t.set_floats({d, r}, random(d * r));
      set.tensors.push_back(t);
      t.name = p + "fc2.bias";
      t.set_floats({d}, random(d));
      set.tensors.push_back(t);
    }
  }
  return set;
}

double MaxAbsDiff(const HostTensor& a, const HostTensor& b) {
  if (a.shape != b.shape) return 1e30;
  double m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const double d = std::abs(static_cast<double>(a.data[i]) - b.data[i]);
    m = std::max(m, std::isnan(d) ? 1e30 : d);
  }
  return m;
}

TEST_F(AdapterTest, DenseAdapterDim16) {
  TensorSet set = RandomDenseV(16, 1234, 0.3f);
  set.metadata["adapter_dim"] = "16";
  auto a16 = MustParse(set);
  ASSERT_NE(a16, nullptr);
  EXPECT_EQ(a16->spec().adapter_dim, 16);
  EXPECT_EQ(a16->spec().variant(), "dense_v");
  EXPECT_EQ(a16->spec().cond_adapter_dim, 0);
  EXPECT_EQ(a16->num_parameters(), 6 * (16 * 48 + 16 + 48 * 16 + 48));

  // It runs, changes the logits, and mixing it with a dim-8 dense adapter in
  // one batch gives what each gives alone.
  auto a8 = MustLoad(AdapterPath("dense_v"));
  ASSERT_NE(a8, nullptr);
  std::vector<HostTensor> base = Run(nullptr), alone16 = Run(a16), alone8 = Run(a8);
  ASSERT_EQ(alone16.size(), 3u);
  ASSERT_EQ(alone8.size(), 3u);
  ASSERT_EQ(base.size(), 3u);
  EXPECT_GT(MaxAbsDiff(alone16[0], base[0]), 1e-2);

  auto cases = LoadTinyCases();
  std::vector<SegmentQuery> queries;
  for (size_t i = 0; i < 3; ++i) {
    queries.push_back({i, cases.prompts[i], a16});
    queries.push_back({i, cases.prompts[i], a8});
    queries.push_back({i, cases.prompts[i], nullptr});
  }
  auto mixed = engine().Segment(cases.images, queries);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  ASSERT_EQ(mixed->size(), 9u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_LE(MaxAbsDiff((*mixed)[3 * i], alone16[i]), 1e-4) << "row " << i;
    EXPECT_LE(MaxAbsDiff((*mixed)[3 * i + 1], alone8[i]), 1e-4) << "row " << i;
    EXPECT_LE(MaxAbsDiff((*mixed)[3 * i + 2], base[i]), 1e-4) << "row " << i;
  }
  // dense_v alone still matches the reference.
  HostTensor ref = ReadFloat(*cases.file, "logits.dense_v");
  EXPECT_LE(Compare(test_support::Stack(alone8), ref).max_abs, 1e-3);
}

// shallow_v with weights rounded to k/64: exactly representable in F16 and
// BF16, so all three files hold the same numbers.
TEST_F(AdapterTest, F16AndBf16GiveTheSameLogitsAsF32) {
  TensorSet f32 = TensorSet::Load(AdapterPath("shallow_v"));
  f32.metadata.clear();
  for (auto& t : f32.tensors) {
    std::vector<float> v = t.floats();
    for (float& x : v) x = std::round(x * 64.f) / 64.f;
    t.set_floats(t.shape, v);
  }
  TensorSet f16 = f32, bf16 = f32;
  int nonzero = 0;
  for (size_t i = 0; i < f32.tensors.size(); ++i) {
    const std::vector<float> v = f32.tensors[i].floats();
    std::vector<uint16_t> h(v.size()), b(v.size());
    for (size_t j = 0; j < v.size(); ++j) {
      h[j] = FloatToHalf(v[j]);
      b[j] = FloatToBf16(v[j]);
      ASSERT_EQ(HalfToFloat(h[j]), v[j]);
      ASSERT_EQ(Bf16ToFloat(b[j]), v[j]);
      nonzero += v[j] != 0.f;
    }
    f16.tensors[i].dtype = DType::kF16;
    f16.tensors[i].bytes.assign(reinterpret_cast<const char*>(h.data()), h.size() * 2);
    bf16.tensors[i].dtype = DType::kBF16;
    bf16.tensors[i].bytes.assign(reinterpret_cast<const char*>(b.data()), b.size() * 2);
  }
  EXPECT_GT(nonzero, 1000);  // the rounding kept the weights meaningful

  auto a32 = MustParse(f32), a16 = MustParse(f16), ab16 = MustParse(bf16);
  ASSERT_NE(a32, nullptr);
  ASSERT_NE(a16, nullptr);
  ASSERT_NE(ab16, nullptr);
  for (const auto& a : {a16, ab16}) {
    EXPECT_EQ(a->spec().variant(), "shallow_v");
    EXPECT_EQ(a->spec().adapter_dim, 8);
    EXPECT_EQ(a->num_parameters(), 3 * 824);
  }
  std::vector<HostTensor> l32 = Run(a32), l16 = Run(a16), lb16 = Run(ab16), base = Run(nullptr);
  ASSERT_EQ(l32.size(), 3u);
  ASSERT_EQ(l16.size(), 3u);
  ASSERT_EQ(lb16.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(l16[i].shape, l32[i].shape);
    EXPECT_EQ(l16[i].data, l32[i].data) << "F16 row " << i;
    EXPECT_EQ(lb16[i].data, l32[i].data) << "BF16 row " << i;
    EXPECT_GT(MaxAbsDiff(l32[i], base[i]), 1e-2) << "the adapter does something";
  }
  // Rounding to 1/64 keeps the result near the real shallow_v.
  auto cases = LoadTinyCases();
  HostTensor ref = ReadFloat(*cases.file, "logits.shallow_v");
  EXPECT_LE(Compare(test_support::Stack(l32), ref).mean_abs, 0.5);
}

// Two adapters with identical names and shapes but different weights must not
// share cached conditional embeddings (the cache is keyed by the adapter's uid).
TEST_F(AdapterTest, SameShapedAdaptersDoNotShareCachedConditions) {
  auto a = MustLoad(AdapterPath("shallow_vlc"));
  TensorSet scaled = TensorSet::Load(AdapterPath("shallow_vlc"));
  for (auto& t : scaled.tensors) {
    if (t.name.rfind("cond_adapter.", 0) != 0 && t.name.rfind("text_extract_adapters.", 0) != 0) {
      continue;
    }
    std::vector<float> v = t.floats();
    for (float& x : v) x *= -1.5f;
    t.set_floats(t.shape, v);
  }
  auto b = MustParse(scaled);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::vector<HostTensor> la = Run(a), lb = Run(b);  // b runs with a's conditions cached
  ASSERT_EQ(la.size(), 3u);
  ASSERT_EQ(lb.size(), 3u);
  EXPECT_GT(MaxAbsDiff(la[0], lb[0]), 1e-2);
  // b on a fresh engine (empty cache).
  auto fresh = Engine::Create(TinyModelDir(), EngineOptions{});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto b2 = (*fresh)->ParseAdapter(scaled.Serialize());
  ASSERT_TRUE(b2.ok()) << b2.status();
  auto cases = LoadTinyCases();
  std::vector<SegmentQuery> queries;
  for (size_t i = 0; i < 3; ++i) queries.push_back({i, cases.prompts[i], *b2});
  auto lb_fresh = (*fresh)->Segment(cases.images, queries);
  ASSERT_TRUE(lb_fresh.ok()) << lb_fresh.status();
  for (size_t i = 0; i < 3; ++i) EXPECT_LE(MaxAbsDiff(lb[i], (*lb_fresh)[i]), 1e-5) << "row " << i;
}

TEST_F(AdapterTest, ModulesWithDifferentDimsAreRejected) {
  TensorSet narrow = RandomDenseV(4, 7, 0.3f);
  TensorSet mixed = RandomDenseV(8, 7, 0.3f);
  for (auto& t : mixed.tensors) {
    if (t.name.rfind("v_out_adapters.1.", 0) != 0) continue;
    for (const auto& n : narrow.tensors) {
      if (n.name == t.name) t = n;
    }
  }
  ExpectRejected(mixed, absl::StatusCode::kInvalidArgument,
                 {"v_out_adapters.1.fc1.weight", "[8, 48]", "[4, 48]"});
}

TEST_F(AdapterTest, DenseHalfPairIsRejected) {
  TensorSet full = RandomDenseV(8, 9, 0.3f);
  TensorSet out_only;
  for (const auto& t : full.tensors) {
    if (t.name.rfind("v_out_adapters.", 0) == 0) out_only.tensors.push_back(t);
  }
  ExpectRejected(out_only, absl::StatusCode::kInvalidArgument,
                 {"v_out_adapters", "no v_attn_adapters"});
}

TEST_F(AdapterTest, FailedLoadLeavesLoadedAdapterUsable) {
  auto good = MustLoad(AdapterPath("shallow_vlc"));
  ASSERT_NE(good, nullptr);
  std::vector<HostTensor> before = Run(good);
  ASSERT_EQ(before.size(), 3u);

  // A batch of failures of every kind, some sharing tensor names with `good`.
  TensorSet wrong_shape = TensorSet::Load(AdapterPath("shallow_vlc"));
  wrong_shape.Find("cond_adapter.fc1.weight")->set_floats({256, 21}, std::vector<float>(256 * 21, 1.f));
  TensorSet nan = TensorSet::Load(AdapterPath("shallow_vlc"));
  {
    std::vector<float> v = nan.Find("vision_extract_adapters.0.fc1.weight")->floats();
    v.back() = std::numeric_limits<float>::quiet_NaN();
    nan.Find("vision_extract_adapters.0.fc1.weight")->set_floats({8, 48}, v);
  }
  TensorSet fingerprint = TensorSet::Load(AdapterPath("shallow_vlc"));
  fingerprint.metadata["base_fingerprint"] = "sha256:" + std::string(64, '0');
  for (const TensorSet* s : {&wrong_shape, &nan, &fingerprint}) {
    EXPECT_FALSE(engine().ParseAdapter(s->Serialize()).ok());
  }
  EXPECT_FALSE(engine().ParseAdapter("garbage").ok());
  EXPECT_FALSE(engine().LoadAdapter(TestData("missing.safetensors")).ok());

  std::vector<HostTensor> after = Run(good);
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after[i].data, before[i].data) << "row " << i;
  auto cases = LoadTinyCases();
  HostTensor ref = ReadFloat(*cases.file, "logits.shallow_vlc");
  auto d = Compare(test_support::Stack(after), ref);
  EXPECT_LE(d.max_abs, 1e-3);
  EXPECT_LE(d.mean_abs, 2e-5);
  EXPECT_EQ(good->spec().variant(), "shallow_vlc");
  EXPECT_EQ(good->num_parameters(), 3 * 824 + 3 * 348 + 10516);
}

}  // namespace
}  // namespace vlsm
