// Channel credentials for the clients of vlsm-server (vlsm-client and
// vlsm-pacs-bridge) from their --tls_ca / --tls_cert / --tls_key flags: PEM
// file paths; no CA means plaintext, a CA alone means TLS that verifies the
// server, a CA with a certificate and its key means mutual TLS.
//
// Ownership: the returned credentials hold copies of the PEM text.
// Threading: a pure function of the files; safe from any thread.
// Errors: InvalidArgument for a combination that does not make sense (a
// certificate or key without a CA, a certificate without its key or the
// reverse); ReadFileToString's status, naming the path, for a file that
// cannot be read. The PEM itself is checked by gRPC when the channel connects.
#ifndef VLSM_CLIENT_CHANNEL_CREDENTIALS_H_
#define VLSM_CLIENT_CHANNEL_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace vlsm {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromPemFiles(
    const std::string& ca, const std::string& cert, const std::string& key);

}  // namespace vlsm

#endif  // VLSM_CLIENT_CHANNEL_CREDENTIALS_H_
