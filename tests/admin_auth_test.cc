// AdminAuth's credential files: the admin certificate fingerprints list (as
// openssl prints fingerprints, with comments) and its errors, and the bearer
// token file. The credentials on a live TLS server: server_tls_test.
#include "server/admin_auth.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kHex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = test_support::UniqueTempPath(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(AdminAuthTest, FingerprintsFileAcceptsOpensslsFormsAndComments) {
  std::string colons;
  for (int i = 0; i < 64; i += 2) {
    if (i > 0) colons += ':';
    colons += std::string(kHex + i, 2);
  }
  std::string upper = colons;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  const std::string other(64, 'f');
  const std::string path = WriteTemp(
      "fingerprints_ok", "# admins\n\nSHA256 Fingerprint=" + upper + "\n  sha256:" + other +
                             "  # ops laptop\n" + std::string(kHex) + "\n");
  auto fingerprints = AdminAuth::ReadFingerprintsFile(path);
  ASSERT_TRUE(fingerprints.ok()) << fingerprints.status();
  EXPECT_THAT(*fingerprints, ElementsAre(std::string(kHex), other));  // duplicates fold
}

TEST(AdminAuthTest, FingerprintsFileErrorsNameTheLine) {
  auto short_one = AdminAuth::ReadFingerprintsFile(WriteTemp("fingerprints_bad", "# x\nabcd\n"));
  EXPECT_EQ(short_one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(short_one.status().message(), HasSubstr("line 2"));
  auto not_hex = AdminAuth::ReadFingerprintsFile(
      WriteTemp("fingerprints_nothex", std::string(63, 'a') + "g\n"));
  EXPECT_EQ(not_hex.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = AdminAuth::ReadFingerprintsFile(WriteTemp("fingerprints_empty", "# none\n"));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminAuth::ReadFingerprintsFile("/nonexistent/fp").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AdminAuthTest, CertificateSha256RejectsWhatIsNotACertificate) {
  EXPECT_EQ(AdminAuth::CertificateSha256("hello").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminAuth::CertificateSha256("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                         "-----END CERTIFICATE-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminAuthTest, TokenFileIsTrimmedAndMustNotBeEmpty) {
  auto token = AdminAuth::ReadTokenFile(WriteTemp("token_ok", "  s3cret\n"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "s3cret");
  EXPECT_EQ(AdminAuth::ReadTokenFile(WriteTemp("token_empty", " \n")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminAuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
}

}  // namespace
}  // namespace vlsm
