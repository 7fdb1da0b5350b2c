// Privacy helpers of vlsm-pacs-bridge: identifiers (UIDs, patient IDs,
// AE-unrelated names) never appear in logs or metrics in clear; they are
// replaced by a short stable digest, and log lines go through one function.
//
// Threading: every function is thread-safe (LogLine serializes writes).
// Errors: none; hashing cannot fail.
#ifndef VLSM_CLIENT_PACS_PRIVACY_H_
#define VLSM_CLIENT_PACS_PRIVACY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vlsm::pacs {

// Lowercase hex SHA-256 of `value`.
std::string Sha256Hex(absl::string_view value);

// "#" + the first 12 hex digits of SHA-256(value): enough to correlate log
// lines about the same series, useless to recover the identifier.
std::string Redact(absl::string_view value);

// One line on stderr, prefixed "vlsm-pacs-bridge: ". Callers pass only
// redacted identifiers.
void LogLine(absl::string_view message);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_PRIVACY_H_
