// vlsm-server's listening credentials from its --tls_cert / --tls_key /
// --tls_client_ca flags: PEM file paths; none means plaintext, a key pair
// means TLS, and a client CA as well means mutual TLS (a client certificate
// signed by that CA is required and verified).
//
// Ownership: the returned credentials hold copies of the PEM text.
// Threading: a pure function of the files; safe from any thread.
// Errors: InvalidArgument for a combination that does not make sense (a
// certificate without its key or the reverse, a client CA without a key
// pair); ReadFileToString's status, naming the path, for a file that cannot
// be read. gRPC checks the PEM itself when the server starts.
#ifndef VLSM_SERVER_SERVER_CREDENTIALS_H_
#define VLSM_SERVER_SERVER_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace vlsm {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromPemFiles(
    const std::string& cert, const std::string& key, const std::string& client_ca);

}  // namespace vlsm

#endif  // VLSM_SERVER_SERVER_CREDENTIALS_H_
