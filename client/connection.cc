#include "client/connection.h"

#include "absl/flags/flag.h"
#include "absl/strings/cord.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/channel_credentials.h"
#include "client/flags.h"
#include "model/safetensors.h"

namespace vlsm::client {
namespace {

constexpr char kUsagePayload[] = "vlsm-client/usage";
constexpr int kMaxReceiveBytes = 64 << 20;  // overlays and probabilities of large images

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials() {
  auto credentials = ChannelCredentialsFromPemFiles(
      absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
  // A flag combination that makes no sense is a usage error (exit code 2).
  if (absl::IsInvalidArgument(credentials.status())) {
    return UsageError(credentials.status().message());
  }
  return credentials;
}

absl::StatusOr<std::string> Token() {
  const std::string token = absl::GetFlag(FLAGS_token);
  const std::string file = absl::GetFlag(FLAGS_token_file);
  if (!token.empty() && !file.empty()) return UsageError("give --token or --token_file, not both");
  if (file.empty()) return token;
  auto bytes = ReadFileToString(file);
  if (!bytes.ok()) return bytes.status();
  return std::string(absl::StripAsciiWhitespace(*bytes));
}

}  // namespace

absl::StatusOr<Connection> Connection::FromFlags() {
  Connection c;
  auto token = Token();
  if (!token.ok()) return token.status();
  c.token_ = *std::move(token);
  const int64_t deadline_ms = absl::GetFlag(FLAGS_deadline_ms);
  if (deadline_ms < 0) return UsageError("--deadline_ms must be >= 0");
  if (deadline_ms > 0) c.deadline_ = absl::Milliseconds(deadline_ms);
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty()) return UsageError("--target must not be empty");
  auto credentials = Credentials();
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  c.channel_ = grpc::CreateCustomChannel(target, *credentials, args);
  return c;
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (deadline_) ctx->set_deadline(absl::ToChronoTime(absl::Now() + *deadline_));
  return ctx;
}

absl::Status UsageError(absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kUsagePayload, absl::Cord("1"));
  return s;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace vlsm::client
