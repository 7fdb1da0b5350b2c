#include "client/pacs_privacy.h"

#include <openssl/sha.h>

#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

std::string Sha256Hex(absl::string_view value) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string Redact(absl::string_view value) { return "#" + Sha256Hex(value).substr(0, 12); }

void LogLine(absl::string_view message) {
  static absl::Mutex mu(absl::kConstInit);
  const std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                   " vlsm-pacs-bridge: ", message, "\n");
  absl::MutexLock lock(&mu);
  std::cerr << line << std::flush;
}

}  // namespace vlsm::pacs
