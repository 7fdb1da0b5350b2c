// Authorization for the AdapterAdmin service: a bearer token, or a mutual-TLS
// client certificate listed as admin.
//
// An admin RPC passes when it carries metadata `authorization: Bearer
// <token>` equal to the configured token (compared in constant time), or,
// without that header, when the TLS peer presented a client certificate
// whose SHA-256 fingerprint (of the DER encoding, as
// `openssl x509 -noout -fingerprint -sha256` prints it) is listed. A
// fingerprint names exactly one certificate, unlike a subject or CN that any
// certificate the CA signs could repeat. Without either kind of credential
// configured, admin RPCs are refused unless insecure admin was explicitly
// allowed.
// Threading: immutable after construction; Check is safe from any thread.
// Errors: Unauthenticated (no or malformed credential), PermissionDenied
// (wrong token, a certificate not listed, or admin disabled); secrets never
// appear in messages.
#ifndef VLSM_SERVER_ADMIN_AUTH_H_
#define VLSM_SERVER_ADMIN_AUTH_H_

#include <grpcpp/server_context.h>

#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

class AdminAuth {
 public:
  // `token`: nullopt when no token file is configured. `admin_cert_sha256`:
  // lowercase hex fingerprints (64 digits) of admin client certificates.
  AdminAuth(std::optional<std::string> token, bool allow_insecure,
            std::set<std::string> admin_cert_sha256 = {})
      : token_(std::move(token)),
        allow_insecure_(allow_insecure),
        admin_certs_(std::move(admin_cert_sha256)) {}

  absl::Status Check(const grpc::ServerContextBase& context) const;

  // The file's content without surrounding whitespace; InvalidArgument when
  // it is empty, NotFound when unreadable.
  static absl::StatusOr<std::string> ReadTokenFile(const std::string& path);
  // One SHA-256 fingerprint per line: 64 hex digits, colons and a "sha256:"
  // or "SHA256 Fingerprint=" prefix allowed; '#' starts a comment; blank
  // lines ignored. Returns them as lowercase hex. InvalidArgument naming the
  // line for anything else or an empty list; NotFound when unreadable.
  static absl::StatusOr<std::set<std::string>> ReadFingerprintsFile(const std::string& path);
  // Lowercase hex SHA-256 of a PEM certificate's DER encoding.
  static absl::StatusOr<std::string> CertificateSha256(absl::string_view pem);

 private:
  absl::Status CheckCertificate(const grpc::ServerContextBase& context) const;

  std::optional<std::string> token_;
  bool allow_insecure_;
  std::set<std::string> admin_certs_;
};

// Constant-time (in the content; the length is not secret) equality.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace vlsm

#endif  // VLSM_SERVER_ADMIN_AUTH_H_
