// Decides when a series is complete: a series is ready once no instance of
// it arrived for the quiet time. A series whose processing failed for a
// transient reason (service down) is put back with a retry time; a new
// arrival resets it to the normal quiet-time rule.
//
// Time is passed in (callers use a pacs::Clock), so tests need no sleeps.
// Threading: every method is thread-safe.
// Errors: none.
#ifndef VLSM_CLIENT_PACS_SERIES_ASSEMBLER_H_
#define VLSM_CLIENT_PACS_SERIES_ASSEMBLER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

struct ReadySeries {
  std::string key;
  absl::Time last_received;
  int attempts = 0;  // failed processing attempts so far
};

class SeriesAssembler {
 public:
  explicit SeriesAssembler(absl::Duration quiet) : quiet_(quiet) {}

  // An instance of series `key` was stored at `at`.
  void Arrived(const std::string& key, absl::Time at);
  // Removes and returns every series that is due at `now` (quiet time passed
  // since its last arrival and, after a failure, its retry time reached),
  // oldest first. The caller owns them until it calls RetryAt or drops them.
  std::vector<ReadySeries> TakeReady(absl::Time now);
  // Puts a taken series back, due no earlier than `when`. If the series got
  // a new arrival meanwhile, the later of both rules applies.
  void RetryAt(const ReadySeries& series, absl::Time when);
  // When the earliest tracked series becomes due (nullopt: none tracked).
  std::optional<absl::Time> NextDue() const;
  size_t size() const;

 private:
  struct Entry {
    absl::Time last_received;
    absl::Time not_before = absl::InfinitePast();
    int attempts = 0;
  };
  absl::Time DueLocked(const Entry& e) const;

  const absl::Duration quiet_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SERIES_ASSEMBLER_H_
