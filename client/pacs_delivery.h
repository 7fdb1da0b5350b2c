// Delivers the spool's outbox (built SEGs) to every configured destination,
// retrying failures with exponential backoff, forever: a PACS that is down
// gets the SEG once it is back. Exactly-once per (SEG, destination) as far
// as the bridge can tell: a success is journaled in the spool before the
// next attempt, and the SEG's bytes (so its SOP Instance UID) never change
// between attempts, so a destination that stored it but whose answer was
// lost sees the same instance again. An outbox entry is removed once every
// destination has it.
//
// Ownership: borrows the spool, transports, clock and metrics (all must
// outlive the queue).
// Threading: every method is thread-safe; RunDue sends one item at a time.
// Errors: none returned; failures are retried, logged (no identifiers) and
// counted.
#ifndef VLSM_CLIENT_PACS_DELIVERY_H_
#define VLSM_CLIENT_PACS_DELIVERY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/pacs_clock.h"
#include "client/pacs_metrics.h"
#include "client/pacs_sender.h"
#include "client/pacs_spool.h"

namespace vlsm::pacs {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(2);
  absl::Duration max = absl::Minutes(5);
  double factor = 2.0;
  // The wait after `failures` consecutive failures (1, 2, ...).
  absl::Duration Delay(int failures) const;
};

class DeliveryQueue {
 public:
  DeliveryQueue(Spool* spool, std::vector<SegTransport*> transports, BackoffPolicy policy,
                Clock* clock, BridgeMetrics* metrics);

  // Queues an outbox entry, due now. `received`: when the last instance of
  // its series arrived (for the end-to-end latency).
  void Enqueue(const std::string& outbox_name, absl::Time received);
  // Queues every outbox entry found in the spool (after a restart).
  void EnqueueSpooled();
  // Attempts every due (entry, destination) once. Returns how many entries
  // were completed (delivered everywhere and removed from the outbox).
  int RunDue();
  std::optional<absl::Time> NextDue() const;
  size_t size() const;

 private:
  struct Item {
    absl::Time received;
    absl::Time due;
    int failures = 0;
  };

  Spool* const spool_;
  const std::vector<SegTransport*> transports_;
  const BackoffPolicy policy_;
  Clock* const clock_;
  BridgeMetrics* const metrics_;
  absl::Mutex run_mu_;  // one RunDue at a time
  mutable absl::Mutex mu_;
  std::map<std::string, Item> items_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_DELIVERY_H_
