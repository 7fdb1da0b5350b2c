#include "model/default_model.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "model/clipseg_config.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;

class DefaultModelTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("VLSM_DEFAULT_MODEL"); }
};

TEST_F(DefaultModelTest, EnvironmentOverrideWins) {
  const fs::path dir = fs::path(test_support::UniqueTempPath("default_model_env"));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << "{}";
  setenv("VLSM_DEFAULT_MODEL", dir.c_str(), 1);
  auto found = DefaultModelDir();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(fs::path(*found), dir.lexically_normal());
  fs::remove_all(dir);
}

TEST_F(DefaultModelTest, EnvironmentWithoutConfigFallsBackToTheEmbeddedModel) {
  setenv("VLSM_DEFAULT_MODEL", "/nonexistent/vlsm-model", 1);
  auto found = DefaultModelDir();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_NE(*found, "/nonexistent/vlsm-model");
}

TEST_F(DefaultModelTest, EmbeddedModelIsCommittedAndItsConfigParses) {
  auto found = DefaultModelDir();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(fs::is_regular_file(fs::path(*found) / "model.safetensors"));
  auto config = LoadClipSegConfig(*found + "/config.json");
  ASSERT_TRUE(config.ok()) << config.status();
}

TEST_F(DefaultModelTest, ExplicitFlagIsReturnedUnchecked) {
  auto dir = ModelDirOrDefault("/some/where");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, "/some/where");
}

}  // namespace
}  // namespace vlsm
