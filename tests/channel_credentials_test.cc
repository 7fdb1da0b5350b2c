// The --tls_* flag combinations of vlsm-client and vlsm-pacs-bridge (the
// handshakes themselves run in client_test and server_tls_test).
#include "client/channel_credentials.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

using ::testing::HasSubstr;

TEST(ChannelCredentialsTest, NoCaIsPlaintext) {
  auto credentials = ChannelCredentialsFromPemFiles("", "", "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_NE(*credentials, nullptr);
}

TEST(ChannelCredentialsTest, CombinationsThatMakeNoSenseAreInvalidArgument) {
  EXPECT_EQ(ChannelCredentialsFromPemFiles("", "c.pem", "k.pem").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelCredentialsFromPemFiles("", "", "k.pem").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelCredentialsFromPemFiles("ca.pem", "c.pem", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelCredentialsFromPemFiles("ca.pem", "", "k.pem").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChannelCredentialsTest, FilesAreReadAndAMissingOneIsNamed) {
  const std::string ca = test_support::UniqueTempPath("channel_credentials_ca.pem");
  std::ofstream(ca) << "not checked until a channel connects\n";
  auto tls = ChannelCredentialsFromPemFiles(ca, "", "");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_NE(*tls, nullptr);
  auto mutual = ChannelCredentialsFromPemFiles(ca, ca, ca);
  ASSERT_TRUE(mutual.ok()) << mutual.status();

  const std::string missing = ca + ".missing";
  const absl::Status no_ca = ChannelCredentialsFromPemFiles(missing, "", "").status();
  EXPECT_EQ(no_ca.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_ca.message()), HasSubstr(missing));
  const absl::Status no_key = ChannelCredentialsFromPemFiles(ca, ca, missing).status();
  EXPECT_EQ(no_key.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_key.message()), HasSubstr(missing));
  std::remove(ca.c_str());
}

}  // namespace
}  // namespace vlsm
