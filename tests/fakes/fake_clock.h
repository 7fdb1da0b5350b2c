// A manually advanced pacs::Clock for tests (no sleeps).
#ifndef VLSM_TESTS_FAKES_FAKE_CLOCK_H_
#define VLSM_TESTS_FAKES_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "client/pacs_clock.h"

namespace vlsm::pacs {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace vlsm::pacs

#endif  // VLSM_TESTS_FAKES_FAKE_CLOCK_H_
