// Versioned, labelled, persisted per-task adapters, served from immutable
// snapshots (TensorFlow Serving's pattern).
//
// Reads: Resolve() and List() take the current snapshot (a
// shared_ptr<const Snapshot>) and never block on writers; a request keeps the
// AdapterVersion it resolved alive until it finishes, so a swap or delete
// never changes work already admitted.
// Writes (Add, SetLabel, Delete) are serialized by one mutex; each builds and
// validates the new state off the request path (parse against the base
// model, run once on a probe input, persist with write-temp-fsync-rename),
// then publishes it with one pointer swap. A failed write changes nothing.
// Persistence: <dir>/index.json and <dir>/<name>/v<version>.safetensors;
// Open() reloads them, so whatever a write acknowledged survives a restart.
// Residency: each version keeps a host copy (AdapterVersion::adapter); the
// device copy a batch computes with comes from AcquireDevice, under the
// byte budget and pins of AdapterResidency (pins are persisted).
// Release: versions and snapshots are destroyed on the registry's Reaper
// thread, never on the thread that publishes a write or finishes a request.
// Errors: absl::Status; NotFound for unknown tasks, InvalidArgument for bad
// names or adapter files, FailedPrecondition for a wrong base model or a
// delete refused because a label points at the version.
#ifndef VLSM_SERVER_ADAPTER_REGISTRY_H_
#define VLSM_SERVER_ADAPTER_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/adapter.h"
#include "model/engine.h"
#include "server/adapter_residency.h"
#include "server/reaper.h"

namespace vlsm {

struct AdapterVersion {
  std::string name;
  uint64_t version = 0;
  // The host copy: metadata and sizes; on a CPU engine also what computes
  // (batches use AdapterRegistry::AcquireDevice).
  std::shared_ptr<const Adapter> adapter;
  std::string sha256;
  int64_t created_unix_ms = 0;
  std::vector<std::string> prompts;  // defaults for requests without prompts
  float threshold = 0.5f;
  std::map<std::string, std::string> metadata;
};

struct AdapterSnapshot {
  // name -> version -> adapter
  std::map<std::string, std::map<uint64_t, std::shared_ptr<const AdapterVersion>>> tasks;
  // name -> label -> version
  std::map<std::string, std::map<std::string, uint64_t>> labels;
  // name -> pinned versions (kept on the serving device)
  std::map<std::string, std::set<uint64_t>> pinned;

  std::vector<std::string> LabelsOf(const std::string& name, uint64_t version) const;
};

struct AddOptions {
  std::vector<std::string> prompts;  // override the file's defaults when non-empty
  float threshold = 0;               // override when > 0
  std::string label;                 // point this label at the new version
  std::map<std::string, std::string> metadata;
};

struct RegistryOptions {
  int64_t device_budget_bytes = 0;  // adapters resident on the device; 0: unlimited
};

class AdapterRegistry {
 public:
  // Opens (creating if needed) `dir` and loads every persisted version
  // against `engine`, which must outlive the registry. A version whose file
  // no longer loads is skipped and reported in `warnings`.
  static absl::StatusOr<std::unique_ptr<AdapterRegistry>> Open(const Engine* engine,
                                                               const std::string& dir,
                                                               std::vector<std::string>* warnings,
                                                               RegistryOptions options = {});
  ~AdapterRegistry();

  // "name" (latest version), "name@<version>" or "name@<label>".
  absl::StatusOr<std::shared_ptr<const AdapterVersion>> Resolve(const std::string& task) const;
  std::shared_ptr<const AdapterSnapshot> snapshot() const;

  // Validates, probes, persists and publishes a new version of `name`.
  absl::StatusOr<std::shared_ptr<const AdapterVersion>> Add(const std::string& name,
                                                            std::string bytes,
                                                            const AddOptions& options);
  absl::Status SetLabel(const std::string& name, const std::string& label, uint64_t version);
  // version 0 deletes every version of the task. Returns the deleted ones.
  absl::StatusOr<std::vector<uint64_t>> Delete(const std::string& name, uint64_t version,
                                               bool force);

  // Pins (keeps on the device) or unpins a version. NotFound for an unknown
  // version; ResourceExhausted when the pinned versions would not fit the
  // device budget.
  absl::Status SetPinned(const std::string& name, uint64_t version, bool pinned);

  // The device copy of `version` for a batch (reloaded if offloaded).
  absl::StatusOr<std::shared_ptr<const Adapter>> AcquireDevice(const AdapterVersion& version);
  AdapterResidency::State ResidencyOf(const AdapterVersion& version) const;
  const AdapterResidency& residency() const { return *residency_; }
  Reaper& reaper() { return *reaper_; }

  static bool ValidTaskName(const std::string& name);
  static bool ValidLabel(const std::string& label);

 private:
  AdapterRegistry(const Engine* engine, std::string dir, const RegistryOptions& options);
  absl::Status Load(std::vector<std::string>* warnings);
  absl::Status Probe(std::shared_ptr<const Adapter> adapter) const;
  // The version's host copy (device copy made resident); `device` is
  // validated against the base model and probed.
  absl::Status Track(AdapterVersion& v, std::shared_ptr<const Adapter> device, bool pinned);
  // Persists the index for `next` and publishes it.
  absl::Status Commit(std::unique_ptr<AdapterSnapshot> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  std::string FilePath(const std::string& name, uint64_t version) const;
  static std::string Key(const std::string& name, uint64_t version);

  const Engine* engine_;
  const std::string dir_;
  // First so that it is destroyed last, running whatever the rest released.
  std::unique_ptr<Reaper> reaper_ = std::make_unique<Reaper>();
  std::unique_ptr<AdapterResidency> residency_;
  absl::Mutex write_mu_;  // serializes writers
  std::map<std::string, uint64_t> next_version_ ABSL_GUARDED_BY(write_mu_);
  mutable absl::Mutex snapshot_mu_;  // guards only the pointer swap
  std::shared_ptr<const AdapterSnapshot> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
};

}  // namespace vlsm

#endif  // VLSM_SERVER_ADAPTER_REGISTRY_H_
