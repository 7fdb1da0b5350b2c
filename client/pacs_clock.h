// The time source of vlsm-pacs-bridge's schedulers (series quiet time,
// delivery backoff), so tests drive them with a fake clock instead of sleeps.
//
// Threading: Now() must be thread-safe. RealClock() is process-wide and never
// destroyed.
#ifndef VLSM_CLIENT_PACS_CLOCK_H_
#define VLSM_CLIENT_PACS_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

// absl::Now().
Clock* RealClock();

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_CLOCK_H_
