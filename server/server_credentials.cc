#include "server/server_credentials.h"

#include <utility>

#include "absl/status/status.h"
#include "model/safetensors.h"

namespace vlsm {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromPemFiles(
    const std::string& cert, const std::string& key, const std::string& client_ca) {
  if (cert.empty() && key.empty()) {
    if (!client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert/--tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  absl::StatusOr<std::string> cert_pem = ReadFileToString(cert);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadFileToString(key);
  if (!key_pem.ok()) return key_pem.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*std::move(key_pem), *std::move(cert_pem)});
  if (!client_ca.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadFileToString(client_ca);
    if (!ca_pem.ok()) return ca_pem.status();
    ssl.pem_root_certs = *std::move(ca_pem);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace vlsm
