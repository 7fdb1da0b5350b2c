#include "client/pacs_series_assembler.h"

#include <algorithm>

namespace vlsm::pacs {

void SeriesAssembler::Arrived(const std::string& key, absl::Time at) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = series_.try_emplace(key, Entry{at});
  if (!inserted) {
    it->second.last_received = std::max(it->second.last_received, at);
    it->second.not_before = absl::InfinitePast();  // new data: try again after the quiet time
  }
}

absl::Time SeriesAssembler::DueLocked(const Entry& e) const {
  return std::max(e.last_received + quiet_, e.not_before);
}

std::vector<ReadySeries> SeriesAssembler::TakeReady(absl::Time now) {
  std::vector<ReadySeries> ready;
  absl::MutexLock lock(&mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    if (DueLocked(it->second) <= now) {
      ready.push_back({it->first, it->second.last_received, it->second.attempts});
      series_.erase(it++);
    } else {
      ++it;
    }
  }
  std::sort(ready.begin(), ready.end(), [](const ReadySeries& a, const ReadySeries& b) {
    return a.last_received != b.last_received ? a.last_received < b.last_received : a.key < b.key;
  });
  return ready;
}

void SeriesAssembler::RetryAt(const ReadySeries& series, absl::Time when) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] =
      series_.try_emplace(series.key, Entry{series.last_received, when, series.attempts + 1});
  if (!inserted) {
    // Arrived meanwhile: keep the newer arrival, honour both rules.
    it->second.last_received = std::max(it->second.last_received, series.last_received);
    it->second.not_before = std::max(it->second.not_before, when);
    it->second.attempts = series.attempts + 1;
  }
}

std::optional<absl::Time> SeriesAssembler::NextDue() const {
  absl::MutexLock lock(&mu_);
  std::optional<absl::Time> next;
  for (const auto& [key, e] : series_) {
    const absl::Time due = DueLocked(e);
    if (!next || due < *next) next = due;
  }
  return next;
}

size_t SeriesAssembler::size() const {
  absl::MutexLock lock(&mu_);
  return series_.size();
}

}  // namespace vlsm::pacs
