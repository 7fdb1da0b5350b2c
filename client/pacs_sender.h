// Where finished SEGs go: C-STORE to a DICOM destination (DCMTK DcmSCU) and
// STOW-RS to a DICOMweb endpoint (libcurl). A transport sends one Part 10
// object per call and says whether the destination accepted it; retries and
// idempotency are the DeliveryQueue's job (pacs_delivery.h).
//
// Ownership: transports own only their settings.
// Threading: Send may be called from one thread at a time per transport.
// Errors: Unavailable when the destination cannot be reached or refuses the
// association (retryable); FailedPrecondition when it answers with a failure
// status (C-STORE status or HTTP code in the message, retried as well: the
// PACS may be misconfigured only for a while); InvalidArgument when the
// bytes do not parse as DICOM.
#ifndef VLSM_CLIENT_PACS_SENDER_H_
#define VLSM_CLIENT_PACS_SENDER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vlsm::pacs {

class SegTransport {
 public:
  virtual ~SegTransport() = default;
  // A short stable name for the journal, logs and metrics ("dicom", "stow").
  virtual const std::string& name() const = 0;
  virtual absl::Status Send(absl::string_view part10) = 0;
};

struct CStoreDestination {
  std::string host;
  int port = 104;
  std::string called_ae;   // the destination's AE title
  std::string calling_ae;  // ours
  absl::Duration timeout = absl::Seconds(30);
};
std::unique_ptr<SegTransport> MakeCStoreTransport(const CStoreDestination& destination);

struct StowDestination {
  std::string url;           // DICOMweb base, e.g. http://pacs:8042/dicom-web (POSTs {url}/studies)
  std::string basic_auth;    // "user:password", optional
  std::string bearer_token;  // optional
  absl::Duration timeout = absl::Seconds(60);
};
std::unique_ptr<SegTransport> MakeStowTransport(const StowDestination& destination);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SENDER_H_
