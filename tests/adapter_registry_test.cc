// The adapter registry: versions, labels, persistence across restarts,
// failed writes that change nothing, and readers that never see a torn state.
#include "server/adapter_registry.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using test_support::TestData;
using test_support::TinyModelDir;
using ::testing::HasSubstr;

std::string AdapterBytes(const std::string& variant) {
  return test_support::ReadFileBytes(TestData("clipseg-tiny/adapters/" + variant + ".safetensors"));
}

class AdapterRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    engine_ = Engine::Create(TinyModelDir(), EngineOptions{})->release();
  }
  static void TearDownTestSuite() { delete engine_; }

  void SetUp() override {
    dir_ = ::testing::TempDir() + "/registry_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    registry_ = Reopen();
  }

  std::unique_ptr<AdapterRegistry> Reopen() {
    std::vector<std::string> warnings;
    auto r = AdapterRegistry::Open(engine_, dir_, &warnings);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    return r.ok() ? *std::move(r) : nullptr;
  }

  static Engine* engine_;
  std::string dir_;
  std::unique_ptr<AdapterRegistry> registry_;
};

Engine* AdapterRegistryTest::engine_ = nullptr;

TEST_F(AdapterRegistryTest, VersionsAndLabels) {
  auto v1 = registry_->Add("polyp", AdapterBytes("shallow_vlc"), {});
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ((*v1)->version, 1u);
  auto v2 = registry_->Add("polyp", AdapterBytes("dense_v"), {{"a tumour"}, 0.4f, "canary", {}});
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ((*v2)->version, 2u);
  EXPECT_EQ((*v2)->prompts, std::vector<std::string>{"a tumour"});
  EXPECT_FLOAT_EQ((*v2)->threshold, 0.4f);

  EXPECT_EQ((*registry_->Resolve("polyp"))->version, 2u);  // latest
  EXPECT_EQ((*registry_->Resolve("polyp@1"))->version, 1u);
  EXPECT_EQ((*registry_->Resolve("polyp@canary"))->version, 2u);
  ASSERT_TRUE(registry_->SetLabel("polyp", "stable", 1).ok());
  EXPECT_EQ((*registry_->Resolve("polyp@stable"))->adapter->spec().variant(), "shallow_vlc");
  ASSERT_TRUE(registry_->SetLabel("polyp", "stable", 2).ok());
  EXPECT_EQ((*registry_->Resolve("polyp@stable"))->version, 2u);

  EXPECT_EQ(registry_->Resolve("skin").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Resolve("polyp@7").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Resolve("polyp@beta").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetLabel("polyp", "stable", 9).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetLabel("polyp", "7up", 1).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AdapterRegistryTest, RestartReloadsEverythingAcknowledged) {
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_v"), {}).ok());
  ASSERT_TRUE(
      registry_->Add("polyp", AdapterBytes("dense_vlc"), {{}, 0, "stable", {{"k", "v"}}}).ok());
  ASSERT_TRUE(registry_->Add("skin", AdapterBytes("shallow_vl"), {}).ok());
  ASSERT_TRUE(registry_->Delete("polyp", 1, false).ok());
  // A temp file left by a crash in mid-upload is ignored.
  std::ofstream(dir_ + "/polyp/v9.safetensors.tmp.abc") << "partial";
  registry_.reset();
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  auto stable = reopened->Resolve("polyp@stable");
  ASSERT_TRUE(stable.ok()) << stable.status();
  EXPECT_EQ((*stable)->version, 2u);
  EXPECT_EQ((*stable)->adapter->spec().variant(), "dense_vlc");
  EXPECT_EQ((*stable)->metadata.at("k"), "v");
  EXPECT_EQ(reopened->Resolve("polyp@1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*reopened->Resolve("skin"))->version, 1u);
  // Versions are never reused, even after a delete and a restart.
  auto v3 = reopened->Add("polyp", AdapterBytes("shallow_v"), {});
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ((*v3)->version, 3u);
}

TEST_F(AdapterRegistryTest, FailedUploadsChangeNothing) {
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_vlc"), {{}, 0, "stable", {}}).ok());
  const std::string index_before = test_support::ReadFileBytes(dir_ + "/index.json");
  std::string truncated = AdapterBytes("dense_v");
  truncated.resize(truncated.size() / 2);
  auto r1 = registry_->Add("polyp", truncated, {{}, 0, "stable", {}});
  EXPECT_EQ(r1.status().code(), absl::StatusCode::kInvalidArgument);

  // Right names, wrong base model.
  auto file = *SafetensorsFile::FromBuffer(AdapterBytes("shallow_v"));
  auto other_base = SerializeSafetensors(file->tensors(), {{"base_fingerprint", "sha256:00"}});
  auto r2 = registry_->Add("polyp", *other_base, {});
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Add("Bad Name", AdapterBytes("shallow_v"), {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(test_support::ReadFileBytes(dir_ + "/index.json"), index_before);
  auto stable = registry_->Resolve("polyp@stable");
  ASSERT_TRUE(stable.ok());
  EXPECT_EQ((*stable)->version, 1u);
  EXPECT_EQ(registry_->snapshot()->tasks.at("polyp").size(), 1u);
  // The next good upload gets the next version number.
  EXPECT_EQ((*registry_->Add("polyp", AdapterBytes("shallow_v"), {}))->version, 2u);
}

TEST_F(AdapterRegistryTest, DeleteRefusedWhileLabelledUnlessForced) {
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_v"), {{}, 0, "stable", {}}).ok());
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_vl"), {}).ok());
  auto held = *registry_->Resolve("polyp@1");  // a request in flight
  auto refused = registry_->Delete("polyp", 1, false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("stable"));
  auto forced = registry_->Delete("polyp", 1, true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(*forced, std::vector<uint64_t>{1});
  EXPECT_EQ(registry_->Resolve("polyp@stable").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/polyp/v1.safetensors"));
  // The in-flight request still has its weights.
  auto cases = test_support::LoadTinyCases();
  auto out = engine_->Segment({cases.images[0]}, {{0, cases.prompts[0], held->adapter}});
  EXPECT_TRUE(out.ok()) << out.status();
  auto all = registry_->Delete("polyp", 0, false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(registry_->Resolve("polyp").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AdapterRegistryTest, ReadersNeverSeeATornState) {
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_v"), {{}, 0, "stable", {}}).ok());
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("shallow_vl"), {}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto v = registry_->Resolve("polyp@stable");
        if (!v.ok() || (*v)->adapter == nullptr) ++failures;
        ++reads;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(registry_->SetLabel("polyp", "stable", 1 + i % 2).ok());
  }
  ASSERT_TRUE(registry_->Add("polyp", AdapterBytes("dense_v"), {{}, 0, "stable", {}}).ok());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ((*registry_->Resolve("polyp@stable"))->version, 3u);
}

// The thread that publishes a write and the thread that drops the last
// reference to a version or a snapshot (a finishing request, a reader) never
// run their destructors: the registry's reaper does.
TEST_F(AdapterRegistryTest, RetiredVersionsAreDestroyedOnTheReaperThread) {
  auto v1 = registry_->Add("polyp", AdapterBytes("shallow_vlc"), {});
  ASSERT_TRUE(v1.ok()) << v1.status();
  std::shared_ptr<const AdapterVersion> in_flight = *std::move(v1);  // a request's reference
  std::weak_ptr<const Adapter> weights = in_flight->adapter;
  ASSERT_TRUE(registry_->AcquireDevice(*in_flight).ok());

  absl::Notification gate;
  registry_->reaper().Post([&] { gate.WaitForNotification(); });  // hold the reaper
  ASSERT_TRUE(registry_->Delete("polyp", 0, false).ok());         // publishes on this thread
  in_flight.reset();                                              // the request finishes here
  EXPECT_FALSE(weights.expired());  // the version was not destroyed on this thread
  gate.Notify();
  registry_->reaper().Flush();
  EXPECT_TRUE(weights.expired());
}

TEST_F(AdapterRegistryTest, RetiredSnapshotsAreDestroyedOnTheReaperThread) {
  auto v1 = registry_->Add("polyp", AdapterBytes("shallow_vlc"), {});
  ASSERT_TRUE(v1.ok()) << v1.status();
  std::weak_ptr<const Adapter> weights = (*v1)->adapter;
  v1 = absl::UnknownError("dropped");
  std::shared_ptr<const AdapterSnapshot> reader = registry_->snapshot();  // e.g. ListAdapters

  absl::Notification gate;
  registry_->reaper().Post([&] { gate.WaitForNotification(); });
  ASSERT_TRUE(registry_->Delete("polyp", 0, false).ok());
  reader.reset();  // the last reference to the old snapshot, and through it to the version
  EXPECT_FALSE(weights.expired());
  gate.Notify();
  registry_->reaper().Flush();
  EXPECT_TRUE(weights.expired());
}

}  // namespace
}  // namespace vlsm
