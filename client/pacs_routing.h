// Routing rules: which series go to which task with which prompts.
//
// Config (JSON):
//   {"rules": [
//     {"name": "ct-chest",                        // for logs and metrics
//      "match": {"modality": "CT",                // RE2, full match,
//                "body_part": "CHEST|THORAX",     //   case-insensitive;
//                "series_description": ".*lung.*",//   a missing key matches
//                "calling_ae": "ORTHANC"},        //   anything
//      "task": "lung@stable",                     // "" or absent: base model
//      "prompts": ["left lung", "right lung"],   // required; one SEG per prompt
//      "threshold": 0.5,                          // optional; 0: the adapter's
//      "omit_empty_frames": false}                // optional; else --omit_empty_frames
//   ]}
// First matching rule wins. An absent attribute is matched as "".
//
// Ownership: the Router owns its compiled patterns; Match returns a pointer
// into it, valid while the Router lives.
// Threading: const methods are thread-safe.
// Errors: Create/Load return InvalidArgument naming the rule and key for bad
// JSON, an unknown key, a bad regex, a bad type, no prompts or a threshold
// outside [0,1).
#ifndef VLSM_CLIENT_PACS_ROUTING_H_
#define VLSM_CLIENT_PACS_ROUTING_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace re2 {
class RE2;
}

namespace vlsm::pacs {

struct SeriesAttributes {
  std::string modality;            // (0008,0060)
  std::string body_part;           // (0018,0015)
  std::string series_description;  // (0008,103E)
  std::string calling_ae;          // the sender's AE title
};

struct Route {
  std::string rule_name;
  std::string task;
  std::vector<std::string> prompts;
  float threshold = 0.0f;
  std::optional<bool> omit_empty_frames;
};

class Router {
 public:
  static absl::StatusOr<std::unique_ptr<Router>> Create(absl::string_view json);
  static absl::StatusOr<std::unique_ptr<Router>> Load(const std::string& path);
  ~Router();

  // The first rule matching `series`, or nullptr.
  const Route* Match(const SeriesAttributes& series) const;
  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    Route route;
    // modality, body_part, series_description, calling_ae; null = any.
    std::unique_ptr<re2::RE2> patterns[4];
  };
  Router() = default;
  std::vector<Rule> rules_;
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_ROUTING_H_
