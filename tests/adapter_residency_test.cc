// Adapter residency with the real engine on CPU: the device byte budget
// offloads the least recently used idle versions, a batch's adapter is never
// offloaded under it, pins keep versions resident (and persist), and a
// request on an offloaded version gets the same logits.
#include "server/adapter_residency.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "server/adapter_registry.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::TestData;
using test_support::TinyModelDir;
using test_support::UniqueTempPath;

std::string AdapterBytes(const std::string& variant) {
  return test_support::ReadFileBytes(TestData("clipseg-tiny/adapters/" + variant + ".safetensors"));
}

class AdapterResidencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    engine_ = Engine::Create(TinyModelDir(), EngineOptions{})->release();
    auto adapter = engine_->ParseAdapter(AdapterBytes("shallow_vlc"));
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_bytes_ = (*adapter)->bytes();
  }
  static void TearDownTestSuite() { delete engine_; }

  void SetUp() override {
    dir_ = UniqueTempPath(std::string("residency_") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }

  // A registry whose device budget holds `fit` of the shallow_vlc adapters.
  std::unique_ptr<AdapterRegistry> Open(int fit) {
    std::vector<std::string> warnings;
    auto r = AdapterRegistry::Open(engine_, dir_, &warnings, RegistryOptions{fit * adapter_bytes_});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }

  static std::shared_ptr<const AdapterVersion> Add(AdapterRegistry& r, const std::string& name) {
    auto v = r.Add(name, AdapterBytes("shallow_vlc"), {});
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : nullptr;
  }

  static bool Resident(const AdapterRegistry& r, const std::string& task) {
    return r.ResidencyOf(**r.Resolve(task)).resident;
  }

  static Engine* engine_;
  static int64_t adapter_bytes_;
  std::string dir_;
};
Engine* AdapterResidencyTest::engine_ = nullptr;
int64_t AdapterResidencyTest::adapter_bytes_ = 0;

TEST_F(AdapterResidencyTest, TheBudgetOffloadsTheLeastRecentlyUsed) {
  auto r = Open(2);
  Add(*r, "a");
  Add(*r, "b");
  EXPECT_TRUE(Resident(*r, "a"));
  EXPECT_TRUE(Resident(*r, "b"));
  Add(*r, "c");  // a is the least recently used
  EXPECT_FALSE(Resident(*r, "a"));
  EXPECT_TRUE(Resident(*r, "b"));
  EXPECT_TRUE(Resident(*r, "c"));
  EXPECT_EQ(r->residency().resident_count(), 2);
  EXPECT_EQ(r->residency().resident_bytes(), 2 * adapter_bytes_);

  ASSERT_TRUE(r->AcquireDevice(**r->Resolve("b")).ok());  // b is now the most recent
  ASSERT_TRUE(r->AcquireDevice(**r->Resolve("a")).ok());  // reloads a, offloads c
  EXPECT_TRUE(Resident(*r, "a"));
  EXPECT_TRUE(Resident(*r, "b"));
  EXPECT_FALSE(Resident(*r, "c"));
  EXPECT_EQ(r->residency().resident_bytes(), 2 * adapter_bytes_);
}

TEST_F(AdapterResidencyTest, AnAdapterABatchHoldsIsNotOffloaded) {
  auto r = Open(1);
  Add(*r, "a");
  auto in_batch = r->AcquireDevice(**r->Resolve("a"));  // a batch computing with a
  ASSERT_TRUE(in_batch.ok());
  Add(*r, "b");  // over budget, but a is busy: b (idle) goes instead
  EXPECT_TRUE(Resident(*r, "a"));
  EXPECT_FALSE(Resident(*r, "b"));
  // Serving never fails for room: b loads over budget while a is busy.
  auto b = r->AcquireDevice(**r->Resolve("b"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(r->residency().resident_bytes(), 2 * adapter_bytes_);
  in_batch->reset();  // the batch ends; the next load evicts down to budget
  b->reset();
  Add(*r, "c");
  EXPECT_EQ(r->residency().resident_count(), 1);
  EXPECT_TRUE(Resident(*r, "c"));
}

TEST_F(AdapterResidencyTest, PinnedVersionsStayResidentAndPinsPersist) {
  {
    auto r = Open(2);
    Add(*r, "a");
    Add(*r, "b");
    ASSERT_TRUE(r->SetPinned("a", 1, true).ok());
    Add(*r, "c");  // a is the least recently used, but pinned: b goes
    EXPECT_TRUE(Resident(*r, "a"));
    EXPECT_FALSE(Resident(*r, "b"));
    ASSERT_TRUE(r->AcquireDevice(**r->Resolve("b")).ok());
    EXPECT_TRUE(Resident(*r, "a"));
    EXPECT_FALSE(Resident(*r, "c"));
    EXPECT_TRUE(r->ResidencyOf(**r->Resolve("a")).pinned);
    // A second pin would fit; a third would not.
    ASSERT_TRUE(r->SetPinned("b", 1, true).ok());
    EXPECT_EQ(r->SetPinned("c", 1, true).code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(r->SetPinned("d", 1, true).code(), absl::StatusCode::kNotFound);
    ASSERT_TRUE(r->SetPinned("b", 1, false).ok());
  }
  auto r = Open(2);  // a restart keeps the pin
  EXPECT_TRUE(r->ResidencyOf(**r->Resolve("a")).pinned);
  EXPECT_TRUE(Resident(*r, "a"));
  EXPECT_FALSE(r->ResidencyOf(**r->Resolve("b")).pinned);
  // Unpinned, a can go again.
  ASSERT_TRUE(r->SetPinned("a", 1, false).ok());
  ASSERT_TRUE(r->AcquireDevice(**r->Resolve("b")).ok());
  ASSERT_TRUE(r->AcquireDevice(**r->Resolve("c")).ok());
  EXPECT_FALSE(Resident(*r, "a"));
}

TEST_F(AdapterResidencyTest, AnOffloadedVersionGivesIdenticalLogits) {
  auto r = Open(1);
  Add(*r, "a");
  Add(*r, "b");
  auto a = r->Resolve("a");
  ASSERT_TRUE(a.ok());
  ASSERT_FALSE(Resident(*r, "a"));

  const int64_t side = engine_->config().vision.image_size;
  HostTensor image;
  image.shape = {3, side, side};
  image.data.resize(3 * side * side);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : image.data) v = u(rng);
  auto segment = [&](std::shared_ptr<const Adapter> adapter) {
    SegmentQuery q;
    q.prompt.input_ids = {engine_->config().text.bos_token_id, 320, 321,
                          engine_->config().text.eos_token_id};
    q.adapter = std::move(adapter);
    auto logits = engine_->Segment({image}, {q});
    EXPECT_TRUE(logits.ok()) << logits.status();
    return logits.ok() ? (*logits)[0].data : std::vector<float>{};
  };
  auto reloaded = r->AcquireDevice(**a);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_TRUE(Resident(*r, "a"));
  auto fresh = engine_->ParseAdapter(AdapterBytes("shallow_vlc"));
  ASSERT_TRUE(fresh.ok());
  const std::vector<float> expected = segment(*fresh);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(segment(*reloaded), expected);
}

TEST_F(AdapterResidencyTest, DeletingForgetsTheVersionWhileABatchKeepsItsCopy) {
  auto r = Open(0);  // no budget: everything resident
  Add(*r, "a");
  Add(*r, "b");
  EXPECT_EQ(r->residency().resident_count(), 2);
  auto held = r->AcquireDevice(**r->Resolve("a"));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(r->Delete("a", 0, false).ok());
  EXPECT_EQ(r->residency().resident_count(), 1);
  EXPECT_EQ(r->residency().resident_bytes(), adapter_bytes_);
  EXPECT_GT((*held)->bytes(), 0);  // still usable by its batch
}

}  // namespace
}  // namespace vlsm
