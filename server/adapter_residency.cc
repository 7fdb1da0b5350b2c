#include "server/adapter_residency.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vlsm {

std::shared_ptr<const Adapter> AdapterResidency::Managed(std::shared_ptr<const Adapter> device) {
  return reaper_ != nullptr ? reaper_->Manage(std::move(device)) : device;
}

void AdapterResidency::MakeResidentLocked(const std::string& key, Entry& entry,
                                          std::shared_ptr<const Adapter> device) {
  if (entry.device != nullptr) {
    lru_.erase(entry.lru);
    resident_bytes_ -= entry.device->bytes();
  }
  entry.device = std::move(device);
  resident_bytes_ += entry.device->bytes();
  lru_.push_front(key);
  entry.lru = lru_.begin();
}

void AdapterResidency::EvictLocked() {
  if (budget_ <= 0) return;
  for (auto it = lru_.end(); it != lru_.begin() && resident_bytes_ > budget_;) {
    --it;
    Entry& e = entries_.at(*it);
    // use_count 1: only this map holds the device copy (no batch does).
    if (e.pinned || e.device.use_count() > 1) continue;
    resident_bytes_ -= e.device->bytes();
    e.device.reset();  // the reaper frees it
    it = lru_.erase(it);
  }
}

void AdapterResidency::Insert(const std::string& key, std::shared_ptr<const Adapter> host,
                              std::shared_ptr<const Adapter> device, bool pinned) {
  if (device != nullptr) device = Managed(std::move(device));
  absl::MutexLock lock(&mu_);
  Entry& e = entries_[key];
  e.host = std::move(host);
  e.pinned = pinned;
  if (device != nullptr) {
    MakeResidentLocked(key, e, std::move(device));
    EvictLocked();
  }
}

void AdapterResidency::Erase(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.device != nullptr) {
    resident_bytes_ -= it->second.device->bytes();
    lru_.erase(it->second.lru);
  }
  entries_.erase(it);
}

absl::StatusOr<std::shared_ptr<const Adapter>> AdapterResidency::Acquire(
    const std::string& key, const std::shared_ptr<const Adapter>& host) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.device != nullptr) {
      Entry& e = it->second;
      lru_.splice(lru_.begin(), lru_, e.lru);  // most recently used
      return e.device;
    }
  }
  // Offloaded (or unknown): copy outside the lock.
  auto device = engine_->CopyAdapter(*host, /*to_device=*/true);
  if (!device.ok()) return device.status();
  std::shared_ptr<const Adapter> managed = Managed(*std::move(device));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return managed;  // deleted meanwhile: untracked
  Entry& e = it->second;
  if (e.device != nullptr) {  // another batch reloaded it first
    lru_.splice(lru_.begin(), lru_, e.lru);
    return e.device;
  }
  MakeResidentLocked(key, e, managed);
  EvictLocked();
  return managed;
}

absl::Status AdapterResidency::SetPinned(const std::string& key, bool pinned) {
  std::shared_ptr<const Adapter> host;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no adapter ", key));
    it->second.pinned = pinned;
    if (!pinned) {
      EvictLocked();  // it may now go
      return absl::OkStatus();
    }
    host = it->second.host;
  }
  return Acquire(key, host).status();  // pinned means resident
}

AdapterResidency::State AdapterResidency::StateOf(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return {};
  return {it->second.device != nullptr, it->second.pinned};
}

int AdapterResidency::resident_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(lru_.size());
}

int64_t AdapterResidency::resident_bytes() const {
  absl::MutexLock lock(&mu_);
  return resident_bytes_;
}

int64_t AdapterResidency::pinned_bytes() const {
  absl::MutexLock lock(&mu_);
  int64_t bytes = 0;
  for (const auto& [key, e] : entries_) {
    if (e.pinned) bytes += e.host->bytes();
  }
  return bytes;
}

}  // namespace vlsm
