#include "client/pacs_routing.h"

#include "gtest/gtest.h"

namespace vlsm::pacs {
namespace {

constexpr char kRules[] = R"({"rules": [
  {"name": "ct-chest", "match": {"modality": "CT", "body_part": "CHEST|THORAX"},
   "task": "lung@stable", "prompts": ["left lung", "right lung"], "threshold": 0.4},
  {"name": "mr-from-orthanc", "match": {"modality": "MR", "calling_ae": "ORTHANC",
   "series_description": ".*t1.*"}, "prompts": ["brain"], "omit_empty_frames": true},
  {"name": "any-ct", "match": {"modality": "CT"}, "prompts": ["organ"]}
]})";

std::unique_ptr<Router> Rules() {
  auto r = Router::Create(kRules);
  EXPECT_TRUE(r.ok()) << r.status();
  return *std::move(r);
}

TEST(PacsRouting, FirstMatchWins) {
  auto router = Rules();
  ASSERT_EQ(router->size(), 3u);
  const Route* r = router->Match({"CT", "CHEST", "", "ANY"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->rule_name, "ct-chest");
  EXPECT_EQ(r->task, "lung@stable");
  EXPECT_EQ(r->prompts, (std::vector<std::string>{"left lung", "right lung"}));
  EXPECT_FLOAT_EQ(r->threshold, 0.4f);
  EXPECT_FALSE(r->omit_empty_frames.has_value());
  // Same modality, other body part: the later catch-all.
  r = router->Match({"CT", "ABDOMEN", "", "ANY"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->rule_name, "any-ct");
  EXPECT_EQ(r->task, "");
}

TEST(PacsRouting, FullMatchCaseInsensitive) {
  auto router = Rules();
  EXPECT_EQ(router->Match({"ct", "thorax", "", ""})->rule_name, "ct-chest");
  // Full match: "CTX" is not "CT", "CHESTS" is not "CHEST|THORAX".
  EXPECT_EQ(router->Match({"CTX", "CHEST", "", ""}), nullptr);
  EXPECT_EQ(router->Match({"CT", "CHESTS", "", ""})->rule_name, "any-ct");
}

TEST(PacsRouting, CallingAeAndDescription) {
  auto router = Rules();
  const Route* r = router->Match({"MR", "", "Ax T1 post", "ORTHANC"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->rule_name, "mr-from-orthanc");
  EXPECT_EQ(r->omit_empty_frames, std::optional<bool>(true));
  EXPECT_EQ(router->Match({"MR", "", "Ax T1 post", "OTHER_AE"}), nullptr);
  EXPECT_EQ(router->Match({"MR", "", "T2 flair", "ORTHANC"}), nullptr);
  // An absent attribute is "" and only matches a pattern that accepts "".
  EXPECT_EQ(router->Match({"MR", "", "", "ORTHANC"}), nullptr);
}

TEST(PacsRouting, BadConfigsNameTheProblem) {
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {"not json", "not JSON"},
      {R"({"rule": []})", "rules"},
      {R"({"rules": [{"prompts": ["a"], "colour": "red"}]})", "unknown key \"colour\""},
      {R"({"rules": [{"prompts": ["a"], "match": {"modality": "("}}]})", "RE2"},
      {R"({"rules": [{"prompts": ["a"], "match": {"station": "X"}}]})", "unknown match key"},
      {R"({"rules": [{"prompts": ["a"], "threshold": 1.5}]})", "threshold"},
      {R"({"rules": [{"prompts": []}]})", "at least one prompt"},
      {R"({"rules": [{"prompts": [""]}]})", "non-empty"},
      {R"({"rules": [{"prompts": ["a"], "task": 3}]})", "task"},
  };
  for (const Case& c : cases) {
    auto r = Router::Create(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status();
  }
}

TEST(PacsRouting, MissingFileIsNotFound) {
  EXPECT_EQ(Router::Load("/nonexistent/routes.json").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vlsm::pacs
