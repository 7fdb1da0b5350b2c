#include "client/pacs_routing.h"

#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "model/safetensors.h"

namespace vlsm::pacs {
namespace {

using json = nlohmann::json;

constexpr const char* kMatchKeys[4] = {"modality", "body_part", "series_description", "calling_ae"};

absl::Status RuleError(size_t index, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("routing rule ", index, ": ", what));
}

}  // namespace

Router::~Router() = default;

absl::StatusOr<std::unique_ptr<Router>> Router::Create(absl::string_view text) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("routing config is not JSON: ", e.what()));
  }
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array()) {
    return absl::InvalidArgumentError("routing config needs {\"rules\": [...]}");
  }
  auto router = std::unique_ptr<Router>(new Router());
  const json& rules = doc["rules"];
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    if (!r.is_object()) return RuleError(i, "is not an object");
    Rule rule;
    rule.route.rule_name = absl::StrCat("rule", i);
    for (const auto& [key, value] : r.items()) {
      if (key == "name") {
        if (!value.is_string()) return RuleError(i, "name must be a string");
        rule.route.rule_name = value.get<std::string>();
      } else if (key == "task") {
        if (!value.is_string()) return RuleError(i, "task must be a string");
        rule.route.task = value.get<std::string>();
      } else if (key == "prompts") {
        if (!value.is_array()) return RuleError(i, "prompts must be an array of strings");
        for (const json& p : value) {
          if (!p.is_string() || p.get<std::string>().empty()) {
            return RuleError(i, "prompts must be non-empty strings");
          }
          rule.route.prompts.push_back(p.get<std::string>());
        }
      } else if (key == "threshold") {
        if (!value.is_number()) return RuleError(i, "threshold must be a number");
        const double t = value.get<double>();
        if (t < 0.0 || t >= 1.0) return RuleError(i, "threshold must be in [0, 1)");
        rule.route.threshold = static_cast<float>(t);
      } else if (key == "omit_empty_frames") {
        if (!value.is_boolean()) return RuleError(i, "omit_empty_frames must be true or false");
        rule.route.omit_empty_frames = value.get<bool>();
      } else if (key == "match") {
        if (!value.is_object()) return RuleError(i, "match must be an object");
        for (const auto& [field, pattern] : value.items()) {
          int slot = -1;
          for (int k = 0; k < 4; ++k) {
            if (field == kMatchKeys[k]) slot = k;
          }
          if (slot < 0) return RuleError(i, absl::StrCat("unknown match key \"", field, "\""));
          if (!pattern.is_string()) return RuleError(i, absl::StrCat(field, " must be a string"));
          RE2::Options options;
          options.set_case_sensitive(false);
          options.set_log_errors(false);
          auto re = std::make_unique<RE2>(pattern.get<std::string>(), options);
          if (!re->ok()) {
            return RuleError(i, absl::StrCat(field, " is not a valid RE2 pattern: ", re->error()));
          }
          rule.patterns[slot] = std::move(re);
        }
      } else {
        return RuleError(i, absl::StrCat("unknown key \"", key, "\""));
      }
    }
    if (rule.route.prompts.empty()) return RuleError(i, "needs at least one prompt");
    router->rules_.push_back(std::move(rule));
  }
  return router;
}

absl::StatusOr<std::unique_ptr<Router>> Router::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  auto router = Create(*text);
  if (!router.ok()) {
    return absl::Status(router.status().code(),
                        absl::StrCat(path, ": ", router.status().message()));
  }
  return router;
}

const Route* Router::Match(const SeriesAttributes& series) const {
  const std::string* values[4] = {&series.modality, &series.body_part, &series.series_description,
                                  &series.calling_ae};
  for (const Rule& rule : rules_) {
    bool all = true;
    for (int k = 0; k < 4 && all; ++k) {
      if (rule.patterns[k] && !RE2::FullMatch(*values[k], *rule.patterns[k])) all = false;
    }
    if (all) return &rule.route;
  }
  return nullptr;
}

}  // namespace vlsm::pacs
