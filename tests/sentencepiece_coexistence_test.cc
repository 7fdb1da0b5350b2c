// LibTorch, gRPC (with protobuf-generated messages) and SentencePiece in ONE
// process, as the server will run them. Each of LibTorch (libprotobuf.so.32
// via ONNX), the generated health messages and SentencePiece (libprotobuf-lite)
// uses protobuf; with Debian's libsentencepiece.so.0, which carries and exports
// its own protobuf-lite 3.14, such a process aborts or crashes before or during
// this test. It must run, and exit, cleanly.
//
// One of two test files that include torch/torch.h (layers_test tests
// model/layers, an internal torch header).
#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>

#include "gtest/gtest.h"
#include "health_check.grpc.pb.h"
#include "model/sentencepiece_tokenizer.h"
#include "model/spm_bridge.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

void ExpectTorchMatmulWorks() {
  const torch::Tensor a = torch::arange(6, torch::kFloat32).reshape({2, 3});
  const torch::Tensor product = torch::matmul(a, a.t());
  const torch::Tensor want = torch::tensor({{5.0f, 14.0f}, {14.0f, 50.0f}});
  EXPECT_TRUE(torch::equal(product, want)) << product;
}

HealthCheckResponse::ServingStatus CheckHealth(Health::Stub& stub, const std::string& service,
                                               grpc::StatusCode* code) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  *code = stub.Check(&context, request, &response).error_code();
  return response.status();
}

TEST(SentencePieceCoexistenceTest, TorchGrpcAndSentencePieceInOneProcess) {
  // (1) LibTorch.
  ExpectTorchMatmulWorks();

  // (2) A real gRPC server with the default health service, and a client.
  // The reflection service (synchronous, built on protobuf's descriptor pool)
  // also gives the server the synchronous service without which
  // BuildAndStart refuses to start.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  std::unique_ptr<Health::Stub> stub = Health::NewStub(channel);
  grpc::StatusCode code;
  EXPECT_EQ(CheckHealth(*stub, "", &code), HealthCheckResponse::SERVING);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  CheckHealth(*stub, "no.such.Service", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
                "grpc.health.v1.Health.Check"),
            nullptr);

  // (3) SentencePiece: train a model, load it, encode.
  std::string tmpl = ::testing::TempDir() + "spm_coexistence_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const fs::path dir(tmpl);
  {
    std::ofstream corpus(dir / "corpus.txt");
    for (const char* color : {"red", "blue", "green", "yellow"}) {
      for (const char* shape : {"circle", "square", "triangle", "polyp"}) {
        for (const char* place : {"", " at the top left", " in the center"}) {
          corpus << "the " << color << " " << shape << place << "\n";
        }
      }
    }
  }
  spm::TrainOptions options;
  options.vocab_size = 40;
  options.extra = {{"hard_vocab_limit", "false"}};
  spm::SpmStatus trained =
      spm::TrainModel((dir / "corpus.txt").string(), (dir / "spiece.model").string(), options);
  ASSERT_TRUE(trained.ok()) << trained.message;
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), 77);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto encoded = (*tokenizer)->Encode("the red circle in the center");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  ASSERT_EQ(encoded->input_ids.size(), 77u);
  EXPECT_EQ(encoded->input_ids.front(), (*tokenizer)->bos_id());

  // Everything still works with all three loaded and used.
  ExpectTorchMatmulWorks();
  EXPECT_EQ(CheckHealth(*stub, "", &code), HealthCheckResponse::SERVING);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  const torch::Tensor ids = torch::tensor(encoded->input_ids, torch::kInt64);
  EXPECT_EQ(ids.sum().item<int64_t>(),
            std::accumulate(encoded->input_ids.begin(), encoded->input_ids.end(), int64_t{0}));

  // Clean shutdown.
  tokenizer->reset();
  stub.reset();
  channel.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  server.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace vlsm
