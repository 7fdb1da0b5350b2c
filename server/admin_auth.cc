#include "server/admin_auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace vlsm {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Always walks `b` (the secret) fully; a length mismatch only sets a bit.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= x ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

absl::Status AdminAuth::Check(const grpc::ServerContextBase& context) const {
  if (!token_.has_value()) {
    if (allow_insecure_) return absl::OkStatus();
    return absl::PermissionDeniedError(
        "admin RPCs are disabled: start the server with --admin_token_file");
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("admin RPCs need `authorization: Bearer <token>`");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return absl::UnauthenticatedError("admin RPCs need a Bearer token");
  }
  if (!ConstantTimeEquals(value, *token_)) return absl::PermissionDeniedError("wrong admin token");
  return absl::OkStatus();
}

absl::StatusOr<std::string> AdminAuth::ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read the admin token file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) return absl::InvalidArgumentError("the admin token file is empty");
  return token;
}

}  // namespace vlsm
