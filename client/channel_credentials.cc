#include "client/channel_credentials.h"

#include <utility>

#include "absl/status/status.h"
#include "model/safetensors.h"

namespace vlsm {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromPemFiles(
    const std::string& ca, const std::string& cert, const std::string& key) {
  if (ca.empty()) {
    if (!cert.empty() || !key.empty()) {
      return absl::InvalidArgumentError("--tls_cert/--tls_key need --tls_ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> roots = ReadFileToString(ca);
  if (!roots.ok()) return roots.status();
  ssl.pem_root_certs = *std::move(roots);
  if (!cert.empty()) {
    absl::StatusOr<std::string> chain = ReadFileToString(cert);
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> private_key = ReadFileToString(key);
    if (!private_key.ok()) return private_key.status();
    ssl.pem_cert_chain = *std::move(chain);
    ssl.pem_private_key = *std::move(private_key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace vlsm
