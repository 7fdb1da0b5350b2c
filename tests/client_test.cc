// vlsm-client, the built binary, against an in-process vlsm-server on
// loopback: upload, list, label, delete, segment (stream and unary), health,
// and how errors are reported (message and exit code).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/image_decode.h"
#include "server/server_builder.h"
#include "tests/support/cases.h"
#include "tests/support/server_fixture.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using test_support::ReadFileBytes;
using test_support::TestData;
using test_support::UniqueTempPath;
using ::testing::HasSubstr;

constexpr char kToken[] = "client-test-token";

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string Quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class ClientTest : public test_support::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    scratch_ = UniqueTempPath(std::string("client_") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch_);
    fs::create_directories(scratch_);
    ServerOptions o = Options();
    o.admin_token = kToken;
    server_ = Start(std::move(o));
    ASSERT_NE(server_, nullptr);
  }

  // Runs vlsm-client with `args` plus --target (and --token when
  // `with_token`); returns its exit code and combined output.
  Result Client(const std::vector<std::string>& args, bool with_token = true) {
    std::vector<std::string> argv = {std::string(VLSM_BIN_DIR) + "/vlsm-client"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--target=127.0.0.1:" + std::to_string(server_->port()));
    if (with_token) argv.push_back(absl::StrCat("--token=", kToken));
    std::vector<std::string> quoted;
    for (const auto& a : argv) quoted.push_back(Quote(a));
    const std::string command = absl::StrJoin(quoted, " ") + " 2>&1";
    Result r;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  Result Upload(const std::string& name, const std::string& label) {
    return Client({"upload", "--name=" + name,
                   "--file=" + TestData("clipseg-tiny/adapters/shallow_vlc.safetensors"),
                   "--label=" + label});
  }

  std::string scratch_;
  std::unique_ptr<VlsmServer> server_;
};

TEST_F(ClientTest, UploadListSegmentAFolderAndHealth) {
  Result up = Upload("polyp", "stable");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_THAT(up.output, HasSubstr("\"name\":\"polyp\""));
  EXPECT_THAT(up.output, HasSubstr("\"labels\":[\"stable\"]"));

  Result list = Client({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("\"name\":\"polyp\""));
  EXPECT_THAT(list.output, HasSubstr("\"variant\":\"shallow_vlc\""));

  const std::string out = scratch_ + "/masks";
  const std::string images = TestData("clipseg-tiny/images");
  Result seg = Client({"segment", "--task=polyp@stable", "--prompt", "a round polyp", "--prompt",
                       "skin lesion", "--overlay", "--out=" + out, images},
                      /*with_token=*/false);
  ASSERT_EQ(seg.exit_code, 0) << seg.output;
  EXPECT_THAT(seg.output, HasSubstr("segmented 3 of 3 images: 6 masks"));
  for (const auto& e : fs::directory_iterator(images)) {
    auto original = DecodeImage(ReadFileBytes(e.path().string()), DecodeLimits{});
    ASSERT_TRUE(original.ok()) << original.status();
    for (int k = 0; k < 2; ++k) {
      const std::string base = absl::StrCat(out, "/", e.path().stem().string(), "_p", k);
      auto mask = DecodeImage(ReadFileBytes(base + "_mask.png"), DecodeLimits{});
      ASSERT_TRUE(mask.ok()) << base << ": " << mask.status();
      EXPECT_EQ(mask->height, original->height) << base;
      EXPECT_EQ(mask->width, original->width) << base;
      EXPECT_EQ(mask->channels, 1) << base;
      EXPECT_TRUE(fs::exists(base + "_overlay.png")) << base;
    }
  }

  Result health = Client({"health"}, /*with_token=*/false);
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("SERVING"));
  Result unknown = Client({"health", "--service=no.such.Service"}, /*with_token=*/false);
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
}

TEST_F(ClientTest, SegmentsOneFileWithRleAndTheBaseModel) {
  const std::string out = scratch_ + "/rle";
  Result seg = Client({"segment", "--prompt=a polyp", "--encoding=rle", "--out=" + out,
                       TestData("clipseg-tiny/images/img2_rgb_80x64.png")});
  ASSERT_EQ(seg.exit_code, 0) << seg.output;
  EXPECT_FALSE(ReadFileBytes(out + "/img2_rgb_80x64_p0_mask.rle").empty());
}

TEST_F(ClientTest, LabelAndDeleteWithATokenFile) {
  ASSERT_EQ(Upload("polyp", "stable").exit_code, 0);
  const std::string token_file = scratch_ + "/token";
  std::ofstream(token_file) << kToken << "\n";
  const std::string token = "--token_file=" + token_file;

  Result label = Client({"label", "--name=polyp", "--label=canary", "--version=1", token}, false);
  ASSERT_EQ(label.exit_code, 0) << label.output;
  EXPECT_THAT(label.output, HasSubstr("canary"));

  Result refused = Client({"delete", "--name=polyp", "--version=1", token}, false);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("vlsm-client: FAILED_PRECONDITION: "));

  Result deleted = Client({"delete", "--name=polyp", "--version=1", "--force", token}, false);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_THAT(deleted.output, HasSubstr("\"deleted_versions\":[\"1\"]"));
  EXPECT_EQ(Client({"list", token}, false).output, "");
}

TEST_F(ClientTest, WrongTokenIsPermissionDenied) {
  Result r = Client(
      {"upload", "--name=polyp",
       "--file=" + TestData("clipseg-tiny/adapters/shallow_vlc.safetensors"), "--token=wrong"},
      /*with_token=*/false);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("vlsm-client: PERMISSION_DENIED: "));
}

TEST_F(ClientTest, UnknownTaskIsNotFound) {
  Result r = Client({"segment", "--task=nope", "--prompt=a polyp", "--out=" + scratch_ + "/x",
                     TestData("clipseg-tiny/images/img0_rgb_200x150.png")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("vlsm-client: NOT_FOUND: "));
}

TEST_F(ClientTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Client({}).exit_code, 2);
  EXPECT_EQ(Client({"frobnicate"}).exit_code, 2);
  Result r = Client({"segment", "--prompt=a polyp"});  // no --out, no inputs
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("vlsm-client: INVALID_ARGUMENT: "));
}

}  // namespace
}  // namespace vlsm
