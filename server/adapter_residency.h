// Which adapter versions have a copy on the serving device: a byte budget,
// LRU offload of idle unpinned versions to host memory, reload on use.
//
// Every registered version keeps a host copy (AdapterVersion::adapter); the
// device copy is made from it on demand with Engine::CopyAdapter. Acquire
// returns the device copy for a batch and marks the version most recently
// used; making room evicts the least recently used versions that are
// unpinned and idle (no batch holds their device copy). Serving never fails
// for lack of room: when everything resident is pinned or busy, the version
// is loaded anyway and the budget is exceeded until batches finish (the
// next Acquire or Insert evicts again). A device copy dropped here is freed
// on the Reaper thread, after the last batch using it.
// On a CPU engine host and device are the same memory: the copies share
// tensors and the policy only does its accounting.
//
// Keys are "name@version" (versions are never reused, see AdapterRegistry).
// Ownership: borrows the engine and the reaper (both outlive this).
// Threading: every method is safe from any thread; one mutex, never held
// while copying weights. Errors: Acquire returns the engine's copy error.
#ifndef VLSM_SERVER_ADAPTER_RESIDENCY_H_
#define VLSM_SERVER_ADAPTER_RESIDENCY_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/adapter.h"
#include "model/engine.h"
#include "server/reaper.h"

namespace vlsm {

class AdapterResidency {
 public:
  // `budget_bytes` 0: unlimited (every version stays resident).
  AdapterResidency(const Engine* engine, Reaper* reaper, int64_t budget_bytes)
      : engine_(engine), reaper_(reaper), budget_(budget_bytes) {}

  // Tracks `key`. `device`, when given, is a device copy the caller already
  // made (e.g. to probe it): it becomes resident and most recently used.
  void Insert(const std::string& key, std::shared_ptr<const Adapter> host,
              std::shared_ptr<const Adapter> device, bool pinned) ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets `key`; batches holding its device copy keep it until they end.
  void Erase(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);

  // The device copy of `key` for a batch, reloaded from `host` when
  // offloaded. An unknown key (deleted while its request was queued) gets
  // an untracked copy.
  absl::StatusOr<std::shared_ptr<const Adapter>> Acquire(const std::string& key,
                                                         const std::shared_ptr<const Adapter>& host)
      ABSL_LOCKS_EXCLUDED(mu_);

  // A pinned version is loaded now and never offloaded. NotFound for an
  // unknown key.
  absl::Status SetPinned(const std::string& key, bool pinned) ABSL_LOCKS_EXCLUDED(mu_);

  struct State {
    bool resident = false;
    bool pinned = false;
  };
  State StateOf(const std::string& key) const ABSL_LOCKS_EXCLUDED(mu_);
  int resident_count() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t resident_bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t pinned_bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t budget_bytes() const { return budget_; }

 private:
  struct Entry {
    std::shared_ptr<const Adapter> host;
    std::shared_ptr<const Adapter> device;  // null: offloaded
    bool pinned = false;
    std::list<std::string>::iterator lru;  // valid while resident
  };

  // Makes the reaper free `device` when its last holder lets go.
  std::shared_ptr<const Adapter> Managed(std::shared_ptr<const Adapter> device);
  // Marks `entry` resident with `device` and most recently used.
  void MakeResidentLocked(const std::string& key, Entry& entry,
                          std::shared_ptr<const Adapter> device) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Offloads idle unpinned versions, least recently used first, until the
  // resident bytes fit the budget (or nothing more can go).
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Engine* engine_;
  Reaper* reaper_;
  const int64_t budget_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // resident keys, most recent first
  int64_t resident_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_ADAPTER_RESIDENCY_H_
