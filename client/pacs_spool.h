// The bridge's durable state on disk, so nothing acknowledged is lost when
// the bridge or the service stops:
//
//   <root>/incoming/<series key>/<instance key>.dcm   received, not yet segmented
//   <root>/outbox/<work key>.p<k>.dcm                 built SEGs awaiting delivery
//   <root>/journal.log                                processed instances and
//                                                     delivered (SEG, destination)
//   <root>/failed/<series key>/                       series the service refused
//   <root>/tmp/                                       partial writes (cleared on open)
//
// Keys are SHA-256 digests of the UIDs, so no identifier appears in a path.
// Every file enters its place by write-temp, fsync, rename, fsync(dir); the
// journal is append-only and fsynced per record (a torn last line is ignored
// on open). Processing is idempotent per SOP Instance UID: an instance whose
// UID the journal lists as processed is acknowledged and dropped.
//
// Ownership: the Spool owns nothing but its directory handle names.
// Threading: every method is thread-safe.
// Errors: Internal/PermissionDenied/ResourceExhausted (disk full) with the
// path and errno text; nothing partial is left in incoming/ or outbox/.
#ifndef VLSM_CLIENT_PACS_SPOOL_H_
#define VLSM_CLIENT_PACS_SPOOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

struct PendingSeries {
  std::string key;
  absl::Time last_received;  // newest instance's mtime
};

struct OutboxEntry {
  std::string name;
  absl::Time written;
};

class Spool {
 public:
  enum class StoreOutcome { kStored, kDuplicate };

  // Creates the folders if missing, clears tmp/ and loads the journal.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& root);

  static std::string SeriesKey(absl::string_view series_uid);
  // The outbox name stem of one segmentation run: series + its instance set.
  static std::string WorkKey(absl::string_view series_uid, std::vector<std::string> sop_uids);

  // A fresh path under tmp/ for a writer that produces a whole file.
  std::string NewTempPath();

  // Moves a complete Part 10 file at `temp_path` (from NewTempPath) into
  // incoming/<series>/ durably. kDuplicate (temp removed) when the SOP
  // Instance UID was already processed.
  absl::StatusOr<StoreOutcome> CommitInstance(const std::string& temp_path,
                                              absl::string_view series_uid,
                                              absl::string_view sop_uid);
  // Writes `bytes` to a temp file, then CommitInstance.
  absl::StatusOr<StoreOutcome> StoreInstance(absl::string_view bytes, absl::string_view series_uid,
                                             absl::string_view sop_uid);

  bool IsProcessed(absl::string_view sop_uid) const;

  // Series folders holding instances (after a restart: all unfinished work).
  std::vector<PendingSeries> ScanIncoming() const;
  // The instance files of one series (sorted by name).
  std::vector<std::string> InstancePaths(const std::string& series_key) const;
  // Journals every SOP UID as processed (one fsync), then removes exactly
  // `paths` and the series folder if it is then empty (an instance that
  // arrived meanwhile stays).
  absl::Status FinishSeries(const std::string& series_key, const std::vector<std::string>& sop_uids,
                            const std::vector<std::string>& paths);

  // Moves `paths` of a series that cannot be processed (e.g. the service
  // cannot decode it) to <root>/failed/<series key>/ for an operator; they
  // are not scanned again.
  absl::Status QuarantineSeries(const std::string& series_key,
                                const std::vector<std::string>& paths);

  // Outbox: `name` is "<work key>.p<k>.dcm".
  bool OutboxHas(const std::string& name) const;
  absl::Status WriteOutbox(const std::string& name, absl::string_view bytes);
  absl::StatusOr<std::string> ReadOutbox(const std::string& name) const;
  std::vector<OutboxEntry> ScanOutbox() const;
  absl::Status RemoveOutbox(const std::string& name);
  bool IsDelivered(const std::string& name, const std::string& destination) const;
  absl::Status MarkDelivered(const std::string& name, const std::string& destination);

  const std::string& root() const { return root_; }

 private:
  explicit Spool(std::string root) : root_(std::move(root)) {}
  absl::Status LoadJournal();
  absl::Status AppendJournal(const std::string& records);  // whole lines

  const std::string root_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> processed_ ABSL_GUARDED_BY(mu_);  // Sha256Hex(sop uid)
  absl::flat_hash_set<std::string> delivered_ ABSL_GUARDED_BY(mu_);  // "name dest"
  uint64_t temp_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SPOOL_H_
