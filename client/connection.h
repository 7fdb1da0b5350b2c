// Connecting to vlsm-server from the common flags: the channel (TLS or
// plaintext), per-call contexts (bearer token, deadline), and status
// helpers shared by the subcommands.
// Errors: absl::Status; usage mistakes are tagged (IsUsageError) so main can
// exit with 2 instead of 1.
#ifndef VLSM_CLIENT_CONNECTION_H_
#define VLSM_CLIENT_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vlsm::client {

// A connection made from --target, --token/--token_file, --tls_* and
// --deadline_ms.
class Connection {
 public:
  static absl::StatusOr<Connection> FromFlags();

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // A fresh context with the token (if any) and the deadline (if any).
  std::unique_ptr<grpc::ClientContext> NewContext() const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  std::optional<absl::Duration> deadline_;
};

// An InvalidArgument status that main reports with exit code 2.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

absl::Status FromGrpc(const grpc::Status& status);

}  // namespace vlsm::client

#endif  // VLSM_CLIENT_CONNECTION_H_
