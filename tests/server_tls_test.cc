// vlsm-server in process over TLS and mutual TLS (certificates made per
// process with the openssl CLI: a CA, a server certificate for
// localhost/127.0.0.1, a client certificate, and an unrelated CA with its own
// client certificate), and the Prometheus metrics scraped through the real
// server. The server credentials come from the PEM files through
// ServerCredentialsFromPemFiles, as vlsm-server's --tls_* flags give them.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "health_check.grpc.pb.h"
#include "server/prometheus_metrics.h"
#include "server/server_builder.h"
#include "server/server_credentials.h"
#include "tests/support/cases.h"
#include "tests/support/http_get.h"
#include "tests/support/server_fixture.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using test_support::Image0;
using test_support::ReadFileBytes;
using test_support::WriteFileBytes;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs `openssl <args>` quietly; true on success.
bool OpenSsl(const std::string& args) {
  const std::string cmd = absl::StrCat(VLSM_OPENSSL, " ", args, " >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0;
}

// PEM material made by the openssl CLI (P-256 keys, valid for a day).
struct Pki {
  std::string ca;  // CA certificate the server is signed by
  std::string ca_file;
  std::string server_cert_file, server_key_file;    // vlsm-server's --tls_cert/--tls_key
  std::string client_cert, client_key;              // signed by `ca`
  std::string other_ca;                             // an unrelated CA
  std::string other_client_cert, other_client_key;  // signed by `other_ca`
  std::string admin_cert, admin_key;                // signed by `ca`, listed as admin
  std::string admin_fingerprints_file;  // `openssl x509 -fingerprint -sha256` of admin_cert
};

// A self-signed CA `<dir>/<name>.{pem,key}`.
bool MakeCa(const std::string& dir, const std::string& name) {
  return OpenSsl(
      absl::StrCat("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
                   " -subj /CN=", name, " -keyout ", dir, "/", name, ".key -out ", dir, "/", name,
                   ".pem", " -addext basicConstraints=critical,CA:TRUE",
                   " -addext keyUsage=critical,keyCertSign,cRLSign"));
}

// A leaf `<dir>/<name>.{pem,key}` signed by `<dir>/<ca>.{pem,key}` with the
// v3 extensions `ext` (one per line).
bool MakeLeaf(const std::string& dir, const std::string& name, const std::string& ca,
              const std::string& ext, int serial) {
  const std::string base = absl::StrCat(dir, "/", name);
  if (!WriteFileBytes(base + ".ext", ext)) return false;
  return OpenSsl(absl::StrCat("req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                              " -subj /CN=", name, " -keyout ", base, ".key -out ", base,
                              ".csr")) &&
         OpenSsl(absl::StrCat("x509 -req -days 1 -in ", base, ".csr -CA ", dir, "/", ca,
                              ".pem -CAkey ", dir, "/", ca, ".key -set_serial ", serial,
                              " -extfile ", base, ".ext -out ", base, ".pem"));
}

absl::StatusOr<Pki> MakePki() {
  const std::string dir = test_support::UniqueTempPath("server_tls_pki");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string server_ext =
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
      "extendedKeyUsage=serverAuth\n"
      "keyUsage=critical,digitalSignature\n";
  const std::string client_ext =
      "extendedKeyUsage=clientAuth\n"
      "keyUsage=critical,digitalSignature\n";
  if (!MakeCa(dir, "ca") || !MakeCa(dir, "other_ca") ||
      !MakeLeaf(dir, "server", "ca", server_ext, 2) ||
      !MakeLeaf(dir, "client", "ca", client_ext, 3) ||
      !MakeLeaf(dir, "other_client", "other_ca", client_ext, 4) ||
      !MakeLeaf(dir, "admin", "ca", client_ext, 5) ||
      !OpenSsl(absl::StrCat("x509 -noout -fingerprint -sha256 -in ", dir, "/admin.pem -out ", dir,
                            "/admin.fingerprints"))) {
    return absl::InternalError(absl::StrCat("openssl failed making certificates in ", dir));
  }
  Pki p;
  p.ca_file = dir + "/ca.pem";
  p.ca = ReadFileBytes(p.ca_file);
  p.server_cert_file = dir + "/server.pem";
  p.server_key_file = dir + "/server.key";
  p.client_cert = ReadFileBytes(dir + "/client.pem");
  p.client_key = ReadFileBytes(dir + "/client.key");
  p.other_ca = ReadFileBytes(dir + "/other_ca.pem");
  p.other_client_cert = ReadFileBytes(dir + "/other_client.pem");
  p.other_client_key = ReadFileBytes(dir + "/other_client.key");
  p.admin_cert = ReadFileBytes(dir + "/admin.pem");
  p.admin_key = ReadFileBytes(dir + "/admin.key");
  p.admin_fingerprints_file = dir + "/admin.fingerprints";
  return p;
}

using test_support::HttpGet;

class ServerTlsTest : public test_support::ServerFixture {
 protected:
  static void SetUpTestSuite() {
    ServerFixture::SetUpTestSuite();
    auto pki = MakePki();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new Pki(*std::move(pki));
  }
  static void TearDownTestSuite() {
    ServerFixture::TearDownTestSuite();
    delete pki_;
  }

  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_NE(pki_, nullptr);
  }

  // vlsm-server's own credentials from the PEM files: TLS, and with
  // `client_ca_file` a required, verified client certificate.
  static std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
      const std::string& client_ca_file = "") {
    auto credentials = ServerCredentialsFromPemFiles(pki_->server_cert_file, pki_->server_key_file,
                                                     client_ca_file);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : nullptr;
  }

  // A server over TLS (mutual TLS with `client_ca_file`).
  std::unique_ptr<VlsmServer> StartTls(const std::string& client_ca_file = "") {
    ServerOptions o = Options();
    o.credentials = ServerCredentials(client_ca_file);
    return Start(std::move(o));
  }

  // A TLS channel to 127.0.0.1:<port> verifying the server as "localhost"
  // against `root`, presenting `cert`/`key` if set. Fresh per call (no
  // subchannel sharing between the cases).
  static std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& root,
                                                   const std::string& cert = "",
                                                   const std::string& key = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = root;
    ssl.pem_cert_chain = cert;
    ssl.pem_private_key = key;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), grpc::SslCredentials(ssl),
                                     args);
  }
  static std::shared_ptr<grpc::Channel> InsecureChannel(int port) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // grpc.health.v1.Health/Check(""); must be SERVING when it succeeds.
  static grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, req, &resp);
    if (s.ok()) EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    return s;
  }

  // Health SERVING and a Segment that answers, over `channel`.
  static void ExpectHealthyAndSegments(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::Status health = Check(channel);
    EXPECT_TRUE(health.ok()) << health.error_code() << " " << health.error_message();
    std::vector<v1::SegmentResponse> out;
    grpc::Status s = Segment(channel, {"a round polyp"}, "", &out);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    EXPECT_FALSE(out.empty());
  }

  static grpc::Status Segment(const std::shared_ptr<grpc::Channel>& channel,
                              const std::vector<std::string>& prompts, const std::string& task,
                              std::vector<v1::SegmentResponse>* out) {
    auto stub = v1::SegmentationService::NewStub(channel);
    v1::SegmentRequest request;
    request.mutable_image()->set_encoded(Image0());
    for (const auto& p : prompts) request.add_prompts(p);
    request.set_task(task);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub->Segment(&ctx, request);
    v1::SegmentResponse r;
    while (reader->Read(&r)) out->push_back(r);
    return reader->Finish();
  }

  static Pki* pki_;
};
Pki* ServerTlsTest::pki_ = nullptr;

TEST(ServerCredentialsTest, FlagCombinationsAndMissingFiles) {
  auto plaintext = ServerCredentialsFromPemFiles("", "", "");
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  EXPECT_NE(*plaintext, nullptr);
  EXPECT_EQ(ServerCredentialsFromPemFiles("", "", "ca.pem").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServerCredentialsFromPemFiles("c.pem", "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServerCredentialsFromPemFiles("", "k.pem", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string missing = test_support::UniqueTempPath("server_tls_missing.pem");
  const absl::Status status = ServerCredentialsFromPemFiles(missing, missing, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(missing));
}

TEST_F(ServerTlsTest, TlsClientTrustingTheCaSegments) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  auto channel = TlsChannel(server->port(), pki_->ca);
  ExpectHealthyAndSegments(channel);
}

TEST_F(ServerTlsTest, TlsServerRefusesPlaintextClients) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  grpc::Status s = Check(InsecureChannel(server->port()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(ServerTlsTest, TlsClientTrustingAnotherCaFails) {
  auto server = StartTls();
  ASSERT_NE(server, nullptr);
  grpc::Status s = Check(TlsChannel(server->port(), pki_->other_ca));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(ServerTlsTest, MutualTlsClientWithACertFromTheClientCaSegments) {
  auto server = StartTls(/*client_ca_file=*/pki_->ca_file);
  ASSERT_NE(server, nullptr);
  auto channel = TlsChannel(server->port(), pki_->ca, pki_->client_cert, pki_->client_key);
  ExpectHealthyAndSegments(channel);
}

TEST_F(ServerTlsTest, MutualTlsRefusesAClientWithoutACert) {
  auto server = StartTls(/*client_ca_file=*/pki_->ca_file);
  ASSERT_NE(server, nullptr);
  grpc::Status s = Check(TlsChannel(server->port(), pki_->ca));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(ServerTlsTest, MutualTlsRefusesAClientCertFromAnotherCa) {
  auto server = StartTls(/*client_ca_file=*/pki_->ca_file);
  ASSERT_NE(server, nullptr);
  grpc::Status s =
      Check(TlsChannel(server->port(), pki_->ca, pki_->other_client_cert, pki_->other_client_key));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// ListAdapters on `channel`, with `token` as a bearer token if set.
grpc::StatusCode ListAdaptersCode(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& token = "") {
  auto stub = v1::AdapterAdmin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  v1::ListAdaptersRequest req;
  v1::ListAdaptersResponse resp;
  return stub->ListAdapters(&ctx, req, &resp).error_code();
}

// The admin fingerprints file as vlsm-server reads it (openssl's own output).
std::set<std::string> AdminFingerprints(const Pki& pki) {
  auto fingerprints = AdminAuth::ReadFingerprintsFile(pki.admin_fingerprints_file);
  EXPECT_TRUE(fingerprints.ok()) << fingerprints.status();
  return fingerprints.ok() ? *fingerprints : std::set<std::string>{};
}

TEST_F(ServerTlsTest, AListedClientCertificateIsAnAdminCredential) {
  ServerOptions o = Options();
  o.credentials = ServerCredentials(/*client_ca_file=*/pki_->ca_file);
  o.admin_token = "t0ken";
  o.admin_cert_sha256 = AdminFingerprints(*pki_);
  ASSERT_EQ(o.admin_cert_sha256.size(), 1u);
  EXPECT_EQ(*o.admin_cert_sha256.begin(), *AdminAuth::CertificateSha256(pki_->admin_cert));
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  auto admin = TlsChannel(server->port(), pki_->ca, pki_->admin_cert, pki_->admin_key);
  auto other = TlsChannel(server->port(), pki_->ca, pki_->client_cert, pki_->client_key);
  EXPECT_EQ(ListAdaptersCode(admin), grpc::StatusCode::OK);
  EXPECT_EQ(ListAdaptersCode(other), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ListAdaptersCode(other, "t0ken"), grpc::StatusCode::OK);  // the token still works
  EXPECT_EQ(ListAdaptersCode(other, "wrong"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ListAdaptersCode(admin, "wrong"), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServerTlsTest, WithoutAnyCredentialAdminIsUnauthenticated) {
  ServerOptions o = Options();
  o.credentials = ServerCredentials();  // TLS without client certificates
  o.admin_cert_sha256 = AdminFingerprints(*pki_);
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  auto channel = TlsChannel(server->port(), pki_->ca);
  EXPECT_EQ(ListAdaptersCode(channel), grpc::StatusCode::UNAUTHENTICATED);
  // No token is configured: a bearer token is no credential either.
  EXPECT_EQ(ListAdaptersCode(channel, "anything"), grpc::StatusCode::UNAUTHENTICATED);
}

// In a process that loads LibTorch (the real server): this failed with
// prometheus-cpp's civetweb Exposer, whose 100 KiB thread stacks are smaller
// than the process's static TLS; /metrics is now served by our own endpoint.
TEST_F(ServerTlsTest, MetricsThroughTheServerCountRequestsWithoutPromptText) {
  auto metrics = StartPrometheusMetrics("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const int metrics_port = (*metrics)->port();
  ASSERT_GT(metrics_port, 0);
  auto server = Start(Options(), std::unique_ptr<ServerMetrics>(*std::move(metrics)));
  ASSERT_NE(server, nullptr);
  auto channel = InsecureChannel(server->port());

  constexpr char kSecretPrompt[] = "zqxj secret prompt wombat";
  constexpr char kUnknownTask[] = "no_such_task_qqq";
  std::vector<v1::SegmentResponse> out;
  grpc::Status ok = Segment(channel, {kSecretPrompt}, "", &out);
  ASSERT_TRUE(ok.ok()) << ok.error_code() << " " << ok.error_message();
  ASSERT_FALSE(out.empty());
  out.clear();
  grpc::Status missing = Segment(channel, {kSecretPrompt}, kUnknownTask, &out);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();

  absl::StatusOr<std::string> text = HttpGet(metrics_port, "/metrics");
  ASSERT_TRUE(text.ok()) << text.status();
  // Both requests are recorded before the server finishes the call.
  EXPECT_THAT(*text, HasSubstr("vlsm_requests_total{"));
  bool ok_line = false, not_found_line = false;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (!absl::StartsWith(line, "vlsm_requests_total{")) continue;
    if (!absl::StrContains(line, "rpc=\"Segment\"")) continue;
    ok_line |= absl::StrContains(line, "code=\"OK\"");
    not_found_line |= absl::StrContains(line, "code=\"NOT_FOUND\"");
  }
  EXPECT_TRUE(ok_line) << *text;
  EXPECT_TRUE(not_found_line) << *text;
  EXPECT_THAT(*text, HasSubstr("vlsm_request_latency_seconds_count{stage=\"total\"}"));
  EXPECT_THAT(*text, HasSubstr("vlsm_batch_size_count"));
  EXPECT_THAT(*text, HasSubstr("vlsm_masks_total"));
  // No request content in the exposition: neither the prompt (nor any word
  // of it) nor the unknown task name (folded into "other").
  for (const char* word : {kSecretPrompt, "zqxj", "wombat", kUnknownTask}) {
    EXPECT_THAT(*text, Not(HasSubstr(word))) << word;
  }
}

}  // namespace
}  // namespace vlsm
