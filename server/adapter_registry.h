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
// Errors: absl::Status; NotFound for unknown tasks, InvalidArgument for bad
// names or adapter files, FailedPrecondition for a wrong base model or a
// delete refused because a label points at the version.
#ifndef VLSM_SERVER_ADAPTER_REGISTRY_H_
#define VLSM_SERVER_ADAPTER_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/adapter.h"
#include "model/engine.h"

namespace vlsm {

struct AdapterVersion {
  std::string name;
  uint64_t version = 0;
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

  std::vector<std::string> LabelsOf(const std::string& name, uint64_t version) const;
};

struct AddOptions {
  std::vector<std::string> prompts;  // override the file's defaults when non-empty
  float threshold = 0;               // override when > 0
  std::string label;                 // point this label at the new version
  std::map<std::string, std::string> metadata;
};

class AdapterRegistry {
 public:
  // Opens (creating if needed) `dir` and loads every persisted version
  // against `engine`, which must outlive the registry. A version whose file
  // no longer loads is skipped and reported in `warnings`.
  static absl::StatusOr<std::unique_ptr<AdapterRegistry>> Open(const Engine* engine,
                                                               const std::string& dir,
                                                               std::vector<std::string>* warnings);

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

  static bool ValidTaskName(const std::string& name);
  static bool ValidLabel(const std::string& label);

 private:
  AdapterRegistry(const Engine* engine, std::string dir) : engine_(engine), dir_(std::move(dir)) {}
  absl::Status Load(std::vector<std::string>* warnings);
  absl::Status Probe(std::shared_ptr<const Adapter> adapter) const;
  // Persists the index for `next` and publishes it.
  absl::Status Commit(std::shared_ptr<AdapterSnapshot> next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  std::string FilePath(const std::string& name, uint64_t version) const;

  const Engine* engine_;
  const std::string dir_;
  absl::Mutex write_mu_;  // serializes writers
  std::map<std::string, uint64_t> next_version_ ABSL_GUARDED_BY(write_mu_);
  mutable absl::Mutex snapshot_mu_;  // guards only the pointer swap
  std::shared_ptr<const AdapterSnapshot> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
};

}  // namespace vlsm

#endif  // VLSM_SERVER_ADAPTER_REGISTRY_H_
