#include "server/admin_auth.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "model/safetensors.h"

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
  if (!token_.has_value() && admin_certs_.empty()) {
    if (allow_insecure_) return absl::OkStatus();
    return absl::PermissionDeniedError(
        "admin RPCs are disabled: start the server with --admin_token_file or "
        "--admin_cert_fingerprints_file");
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end() || !token_.has_value()) {
    if (!admin_certs_.empty()) return CheckCertificate(context);
    return absl::UnauthenticatedError("admin RPCs need `authorization: Bearer <token>`");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return absl::UnauthenticatedError("admin RPCs need a Bearer token");
  }
  if (!ConstantTimeEquals(value, *token_)) return absl::PermissionDeniedError("wrong admin token");
  return absl::OkStatus();
}

absl::Status AdminAuth::CheckCertificate(const grpc::ServerContextBase& context) const {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> pems;
  if (auth != nullptr) pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) {
    return absl::UnauthenticatedError(
        "admin RPCs need a bearer token or an admin client certificate");
  }
  auto fingerprint = CertificateSha256(absl::string_view(pems.front().data(), pems.front().size()));
  if (!fingerprint.ok()) return absl::UnauthenticatedError("unreadable client certificate");
  if (admin_certs_.count(*fingerprint) == 0) {
    return absl::PermissionDeniedError("this client certificate is not an admin certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AdminAuth::CertificateSha256(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::InternalError("out of memory");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1) {
    return absl::InternalError("cannot hash the certificate");
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

absl::StatusOr<std::set<std::string>> AdminAuth::ReadFingerprintsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read the admin certificate fingerprints file");
  std::set<std::string> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = line;
    text = text.substr(0, text.find('#'));
    text = absl::StripAsciiWhitespace(text);
    if (text.empty()) continue;
    std::string hex = absl::AsciiStrToLower(text);
    for (absl::string_view prefix : {"sha256 fingerprint=", "sha256:"}) {
      if (absl::StartsWith(hex, prefix)) hex.erase(0, prefix.size());
    }
    absl::StrReplaceAll({{":", ""}}, &hex);
    const bool valid =
        hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrCat("admin certificate fingerprints file, line ",
                                                     number, ": not a SHA-256 fingerprint"));
    }
    out.insert(hex);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("the admin certificate fingerprints file lists none");
  }
  return out;
}

absl::StatusOr<std::string> AdminAuth::ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("admin token file: ", text.status().message()));
  }
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) return absl::InvalidArgumentError("the admin token file is empty");
  return token;
}

}  // namespace vlsm
