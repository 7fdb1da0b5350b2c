// The bridge's DICOM Storage SCP (DCMTK dcmnet, a DcmBaseSCPPool of
// DcmThreadSCP workers): answers C-ECHO and C-STORE for the accepted SOP
// classes and transfer syntaxes, checks each instance (pacs_instance.h for
// the statuses), writes it durably into the spool and only then sends the
// C-STORE response. A refused instance changes nothing and does not end the
// association.
//
// Associations are refused when the called AE title is not ours, or when
// allowed_calling_aes is set and the caller is not in it.
//
// Ownership: borrows the spool and metrics; `on_stored` is called on a
// worker thread after each stored instance.
// Threading: Start spawns the listener thread; the destructor stops
// accepting, waits for running associations and joins it.
// Errors: Start returns InvalidArgument for bad options (unknown SOP class or
// transfer syntax name, AE title over 16 characters) and Unavailable when
// the port cannot be bound.
#ifndef VLSM_CLIENT_PACS_SCP_H_
#define VLSM_CLIENT_PACS_SCP_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/pacs_metrics.h"
#include "client/pacs_spool.h"

namespace vlsm::pacs {

struct StoredInstance {
  std::string series_key;  // Spool::SeriesKey
  absl::Time received;
};

struct ScpOptions {
  std::string ae_title = "VLSM_BRIDGE";
  int port = 11112;
  // UIDs or DCMTK names ("CTImageStorage"). Empty: the defaults (CT, MR, CR,
  // DX, MG, US, Secondary Capture and PET image storage).
  std::vector<std::string> sop_classes;
  // UIDs or DCMTK names ("LittleEndianExplicit", "JPEGLossless", ...; as
  // dcmFindUIDFromName knows them). Empty: the defaults, in order of
  // preference: explicit and implicit little endian, deflated, JPEG
  // baseline/extended/lossless SV1, JPEG-LS, JPEG 2000, RLE.
  std::vector<std::string> transfer_syntaxes;
  std::vector<std::string> allowed_calling_aes;  // empty: any
  int max_associations = 8;
  absl::Duration network_timeout = absl::Seconds(60);
};

class StorageScp {
 public:
  static absl::StatusOr<std::unique_ptr<StorageScp>> Start(
      const ScpOptions& options, Spool* spool, BridgeMetrics* metrics,
      std::function<void(const StoredInstance&)> on_stored);
  ~StorageScp();

  // True while the listener runs (false after an unexpected network failure).
  bool running() const;

  class Impl;

 private:
  explicit StorageScp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SCP_H_
