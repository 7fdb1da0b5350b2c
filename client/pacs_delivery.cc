#include "client/pacs_delivery.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/pacs_privacy.h"

namespace vlsm::pacs {

absl::Duration BackoffPolicy::Delay(int failures) const {
  if (failures <= 0) return absl::ZeroDuration();
  const double scale = std::pow(std::max(1.0, factor), failures - 1);
  const double seconds = absl::ToDoubleSeconds(initial) * scale;
  if (!std::isfinite(seconds) || seconds >= absl::ToDoubleSeconds(max)) return max;
  return absl::Seconds(seconds);
}

DeliveryQueue::DeliveryQueue(Spool* spool, std::vector<SegTransport*> transports,
                             BackoffPolicy policy, Clock* clock, BridgeMetrics* metrics)
    : spool_(spool),
      transports_(std::move(transports)),
      policy_(policy),
      clock_(clock),
      metrics_(metrics) {}

void DeliveryQueue::Enqueue(const std::string& outbox_name, absl::Time received) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  items_.try_emplace(outbox_name, Item{received, now, 0});
}

void DeliveryQueue::EnqueueSpooled() {
  for (const OutboxEntry& e : spool_->ScanOutbox()) Enqueue(e.name, e.written);
}

int DeliveryQueue::RunDue() {
  absl::MutexLock run(&run_mu_);
  std::vector<std::pair<std::string, Item>> due;
  {
    const absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    for (const auto& [name, item] : items_) {
      if (item.due <= now) due.emplace_back(name, item);
    }
  }
  int completed = 0;
  for (auto& [name, item] : due) {
    bool all = true;
    absl::StatusOr<std::string> bytes = spool_->ReadOutbox(name);
    if (!bytes.ok()) {
      // Removed underneath us (an operator cleaned the outbox): nothing to send.
      absl::MutexLock lock(&mu_);
      items_.erase(name);
      continue;
    }
    for (SegTransport* t : transports_) {
      if (spool_->IsDelivered(name, t->name())) continue;
      const absl::Status sent = t->Send(*bytes);
      if (!sent.ok()) {
        all = false;
        metrics_->SegDeliveryFailed(t->name());
        LogLine(absl::StrCat("delivery of SEG ", name, " to ", t->name(), " failed (attempt ",
                             item.failures + 1, "): ", sent.message()));
        continue;
      }
      if (absl::Status s = spool_->MarkDelivered(name, t->name()); !s.ok()) {
        // Delivered but not journaled: a later attempt re-sends the same
        // instance, which the destination treats as the same object.
        all = false;
        LogLine(absl::StrCat("journal write failed: ", s.message()));
        continue;
      }
      metrics_->SegDelivered(t->name());
    }
    const absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    auto it = items_.find(name);
    if (it == items_.end()) continue;
    if (all) {
      metrics_->EndToEndLatency(now - it->second.received);
      LogLine(absl::StrFormat("SEG %s delivered, %.2f s after the series' last instance", name,
                              absl::ToDoubleSeconds(now - it->second.received)));
      items_.erase(it);
      if (absl::Status s = spool_->RemoveOutbox(name); !s.ok()) {
        LogLine(absl::StrCat("outbox cleanup failed: ", s.message()));
      }
      ++completed;
    } else {
      ++it->second.failures;
      it->second.due = now + policy_.Delay(it->second.failures);
    }
  }
  return completed;
}

std::optional<absl::Time> DeliveryQueue::NextDue() const {
  absl::MutexLock lock(&mu_);
  std::optional<absl::Time> next;
  for (const auto& [name, item] : items_) {
    if (!next || item.due < *next) next = item.due;
  }
  return next;
}

size_t DeliveryQueue::size() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

}  // namespace vlsm::pacs
