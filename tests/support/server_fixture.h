// The fixture the in-process server tests share (client_test, server_test,
// server_tls_test, server_ops_test, dicom_seg_service_test): the tiny
// CLIPSeg model with the CLIP tokenizer, loaded once per suite, and
// vlsm-servers started on it on a free loopback port.
//
// Ownership: the suite owns the Pipeline (every server of the suite shares
// it); a case owns the servers Start returns, and channel_ points at the last
// one started. Threading: gtest's main thread.
// Errors: gtest failures (a server that does not start fails the case and
// Start returns null).
#ifndef VLSM_TESTS_SUPPORT_SERVER_FIXTURE_H_
#define VLSM_TESTS_SUPPORT_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "model/pipeline.h"
#include "server/metrics.h"
#include "server/server_builder.h"
#include "tests/support/cases.h"

namespace vlsm::test_support {

// A plaintext channel to 127.0.0.1:`port`.
inline std::shared_ptr<grpc::Channel> LoopbackChannel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

// The tiny model's test inputs: a 200x150 RGB PNG and a converted adapter
// ("shallow_vlc", "dense_vlc", ...).
inline std::string Image0() {
  return ReadFileBytes(TestData("clipseg-tiny/images/img0_rgb_200x150.png"));
}
inline std::string AdapterFile(const std::string& variant) {
  return ReadFileBytes(TestData("clipseg-tiny/adapters/" + variant + ".safetensors"));
}

class ServerFixture : public ::testing::Test {
 protected:
  // A suite that needs more set-up defines its own and calls these first.
  static void SetUpTestSuite() {
    auto p = Pipeline::Create(TinyModelWithTokenizer("server_fixture_model"), EngineOptions{});
    ASSERT_TRUE(p.ok()) << p.status();
    pipeline_ = *std::move(p);
  }
  static void TearDownTestSuite() { pipeline_.reset(); }

  // A fresh adapter directory per case (cases run as parallel processes).
  void SetUp() override {
    ASSERT_NE(pipeline_, nullptr) << "the suite's model did not load";
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    adapter_dir_ =
        UniqueTempPath(std::string(test->test_suite_name()) + "_" + test->name() + "_adapters");
    std::filesystem::remove_all(adapter_dir_);
  }

  // The shared model, this case's adapter directory, any free loopback port,
  // two CPU workers; plaintext, no admin credentials.
  ServerOptions Options() const {
    ServerOptions o;
    o.pipeline = pipeline_;
    o.adapter_dir = adapter_dir_;
    o.address = "127.0.0.1:0";
    o.cpu_workers = 2;
    return o;
  }

  // Starts a server and points channel_ at it (plaintext); null on failure.
  std::unique_ptr<VlsmServer> Start(ServerOptions o,
                                    std::unique_ptr<ServerMetrics> metrics = nullptr) {
    auto s = VlsmServer::Start(std::move(o), std::move(metrics));
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return nullptr;
    channel_ = LoopbackChannel((*s)->port());
    return *std::move(s);
  }

  static inline std::shared_ptr<const Pipeline> pipeline_;
  std::string adapter_dir_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_SERVER_FIXTURE_H_
