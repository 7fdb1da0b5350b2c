#include "client/pacs_clock.h"

namespace vlsm::pacs {
namespace {

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

}  // namespace

Clock* RealClock() {
  static Clock* clock = new SystemClock();
  return clock;
}

}  // namespace vlsm::pacs
