// Bearer-token authorization for the AdapterAdmin service.
//
// Every admin RPC must carry metadata `authorization: Bearer <token>` equal
// to the configured token (compared in constant time). Without a configured
// token, admin RPCs are refused unless insecure admin was explicitly allowed.
// Threading: immutable after construction; Check is safe from any thread.
// Errors: Unauthenticated (no or malformed credential), PermissionDenied
// (wrong token, or admin disabled); the token never appears in messages.
#ifndef VLSM_SERVER_ADMIN_AUTH_H_
#define VLSM_SERVER_ADMIN_AUTH_H_

#include <grpcpp/server_context.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

class AdminAuth {
 public:
  // `token`: nullopt when no token file is configured.
  AdminAuth(std::optional<std::string> token, bool allow_insecure)
      : token_(std::move(token)), allow_insecure_(allow_insecure) {}

  absl::Status Check(const grpc::ServerContextBase& context) const;

  // The file's content without surrounding whitespace; InvalidArgument when
  // it is empty, NotFound when unreadable.
  static absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

 private:
  std::optional<std::string> token_;
  bool allow_insecure_;
};

// Constant-time (in the content; the length is not secret) equality.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace vlsm

#endif  // VLSM_SERVER_ADMIN_AUTH_H_
