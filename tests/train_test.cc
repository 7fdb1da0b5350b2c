// vlsm-train end to end at CI size: a tiny adapter on clipseg-tiny learns a
// generated set (the loss falls), the file it writes loads in the engine and
// uploads into a running vlsm-server, runs are deterministic, a tiny model
// trains from scratch into a directory every tool loads, and bad options are
// refused.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/engine.h"
#include "model/fingerprint.h"
#include "model/pipeline.h"
#include "model/trainer.h"
#include "nlohmann/json.hpp"
#include "server/server_builder.h"
#include "tests/support/cases.h"
#include "tests/support/tiny_dataset.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using test_support::ReadFileBytes;
using test_support::UniqueTempPath;

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(UniqueTempPath("train_test"));
    fs::remove_all(*root_);
    test_support::WriteTinyDataset(*root_ + "/data", 8, 4, 4);
    model_ = new std::string(test_support::TinyModelWithTokenizer("train_test_model"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    fs::remove_all(*model_);
    delete root_;
    delete model_;
  }

  static TrainOptions AdapterOptions(const std::string& out) {
    TrainOptions o;
    o.mode = "adapter";
    o.data_dir = *root_ + "/data";
    o.model_dir = *model_;
    o.variant = "shallow_vlc";
    o.adapter_dim = 8;
    o.epochs = 8;
    o.batch_size = 4;
    o.lr = 3e-3;
    o.early_stop_patience = 100;
    o.seed = 7;
    o.threads = 1;
    o.task = "shapes";
    o.out = *root_ + "/" + out;
    return o;
  }

  static std::string* root_;
  static std::string* model_;
};
std::string* TrainTest::root_ = nullptr;
std::string* TrainTest::model_ = nullptr;

nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFileBytes(path));
}

// Uploads `bytes` as task `name` into a running server; returns the status.
grpc::Status Upload(int port, const std::string& name, const std::string& bytes,
                    v1::AdapterInfo* info) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto admin = v1::AdapterAdmin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer train-token");
  auto writer = admin->UploadAdapter(&ctx, info);
  v1::UploadChunk chunk;
  chunk.mutable_header()->set_name(name);
  chunk.mutable_header()->set_total_bytes(bytes.size());
  chunk.mutable_header()->set_sha256(Sha256Hex(bytes));
  chunk.set_data(bytes);
  chunk.set_last(true);
  writer->Write(chunk);
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(TrainTest, AdapterLossFallsAndTheFileLoadsInTheEngineAndTheServer) {
  const TrainOptions o = AdapterOptions("shapes.safetensors");
  std::vector<TrainProgress> seen;
  auto report = RunTrainer(o, [&](const TrainProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->steps, 16);  // 8 epochs x 2 batches
  EXPECT_LT(report->loss_last, report->loss_first);
  EXPECT_GT(report->trainable_params, 0);
  EXPECT_EQ(report->test.images, 4);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().step, 16);

  // metrics.json next to the adapter.
  const std::string metrics_path = *root_ + "/shapes.metrics.json";
  EXPECT_EQ(report->metrics_path, metrics_path);
  const auto m = ReadJson(metrics_path);
  EXPECT_EQ(m["mode"], "adapter");
  EXPECT_EQ(m["variant"], "shallow_vlc");
  EXPECT_EQ(m["trainable_params"], report->trainable_params);
  EXPECT_EQ(m["steps"], 16);
  EXPECT_EQ(m["epochs"], 8);
  for (const char* key : {"val_best_dice", "train_seconds", "loss_first", "loss_last"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(m["test"]["dice"].get<double>(), report->test.dice);
  EXPECT_TRUE(m["test"].contains("iou"));

  // The engine loads it against the base it was trained on.
  auto engine = Engine::Create(*model_, EngineOptions{});
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto adapter = (*engine)->LoadAdapter(o.out);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  EXPECT_EQ((*adapter)->spec().variant(), "shallow_vlc");
  EXPECT_EQ((*adapter)->spec().adapter_dim, 8);
  EXPECT_EQ((*adapter)->num_parameters(), report->trainable_params);
  EXPECT_EQ((*adapter)->metadata().task, "shapes");
  EXPECT_EQ((*adapter)->metadata().base_fingerprint, (*engine)->fingerprint());
  EXPECT_THAT((*adapter)->metadata().prompts, ::testing::Contains("a bright square"));
  EXPECT_EQ((*adapter)->metadata().raw.at("source"), "vlsm-train");

  // A base with other weights refuses it.
  const std::string other = UniqueTempPath("train_other_base");
  ASSERT_TRUE(Engine::WriteRandomModel((*engine)->config(), 99, other).ok());
  auto other_engine = Engine::Create(other, EngineOptions{});
  ASSERT_TRUE(other_engine.ok());
  EXPECT_EQ((*other_engine)->LoadAdapter(o.out).status().code(),
            absl::StatusCode::kFailedPrecondition);
  fs::remove_all(other);

  // And a running server takes the upload.
  auto pipeline = Pipeline::Create(*model_, EngineOptions{});
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  ServerOptions so;
  so.pipeline = *std::move(pipeline);
  so.adapter_dir = *root_ + "/server_adapters";
  so.address = "127.0.0.1:0";
  so.admin_token = "train-token";
  so.cpu_workers = 1;
  auto server = VlsmServer::Start(std::move(so), nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  v1::AdapterInfo info;
  grpc::Status s = Upload((*server)->port(), "shapes", ReadFileBytes(o.out), &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.variant(), "shallow_vlc");
  EXPECT_EQ(info.num_parameters(), report->trainable_params);
  (*server)->Shutdown(absl::ZeroDuration());
}

TEST_F(TrainTest, SameSeedSameBytes) {
  TrainOptions a = AdapterOptions("det_a.safetensors");
  a.epochs = 2;
  a.variant = "dense_vl";
  TrainOptions b = a;
  b.out = *root_ + "/det_b.safetensors";
  ASSERT_TRUE(RunTrainer(a, nullptr).ok());
  ASSERT_TRUE(RunTrainer(b, nullptr).ok());
  EXPECT_EQ(ReadFileBytes(a.out), ReadFileBytes(b.out));
  TrainOptions c = a;
  c.seed = 8;
  c.out = *root_ + "/det_c.safetensors";
  ASSERT_TRUE(RunTrainer(c, nullptr).ok());
  EXPECT_NE(ReadFileBytes(a.out), ReadFileBytes(c.out));
}

TEST_F(TrainTest, ScratchWritesAModelDirectoryThePipelineLoads) {
#ifndef VLSM_HAVE_SENTENCEPIECE
  GTEST_SKIP() << "scratch training needs SentencePiece (its tokenizer)";
#endif
  const std::string config = *root_ + "/arch.json";
  test_support::WriteFileBytes(config, R"({
    "projection_dim": 32, "reduce_dim": 16, "extract_layers": [0, 1],
    "decoder_num_attention_heads": 2, "decoder_intermediate_size": 32,
    "text_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                    "num_attention_heads": 2, "max_position_embeddings": 16},
    "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                      "num_attention_heads": 2, "image_size": 32, "patch_size": 8}})");
  TrainOptions o;
  o.mode = "scratch";
  o.data_dir = *root_ + "/data";
  o.config_path = config;
  o.epochs = 2;
  o.batch_size = 4;
  o.seed = 3;
  o.threads = 1;
  o.vocab_size = 40;
  o.out = *root_ + "/scratch_model";
  o.metrics_out = *root_ + "/scratch_metrics.json";
  auto report = RunTrainer(o, nullptr);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->steps, 4);
  for (const char* f :
       {"config.json", "model.safetensors", "spiece.model", "preprocessor_config.json"}) {
    EXPECT_TRUE(fs::exists(o.out + "/" + f)) << f;
  }
  auto pipeline = Pipeline::Create(o.out, EngineOptions{});
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  EXPECT_EQ((*pipeline)->preprocess().height, 32);
  EXPECT_LE((*pipeline)->engine().config().text.vocab_size, 40);
  auto prompt = (*pipeline)->EncodePrompt("a bright disc");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(prompt->input_ids.front(), (*pipeline)->tokenizer().bos_id());
  EXPECT_NE((*pipeline)->tokenizer().eos_id(), 2);  // see train_tokenizer.h
  EXPECT_EQ(ReadJson(o.metrics_out)["mode"], "scratch");

  // --mode eval scores the directory as served; an adapter on it trains too.
  TrainOptions e;
  e.mode = "eval";
  e.data_dir = o.data_dir;
  e.model_dir = o.out;
  e.metrics_out = *root_ + "/scratch_eval.json";
  auto eval = RunTrainer(e, nullptr);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_DOUBLE_EQ(eval->test.dice, report->test.dice);
  EXPECT_EQ(ReadJson(e.metrics_out)["variant"], "base");

  TrainOptions a = AdapterOptions("on_scratch.safetensors");
  a.model_dir = o.out;
  a.epochs = 1;
  ASSERT_TRUE(RunTrainer(a, nullptr).ok());
  e.adapter_path = a.out;
  auto with_adapter = RunTrainer(e, nullptr);
  ASSERT_TRUE(with_adapter.ok()) << with_adapter.status();
  EXPECT_EQ(ReadJson(e.metrics_out)["variant"], "shallow_vlc");
}

TEST_F(TrainTest, BadOptionsAreRefusedBeforeAnyWork) {
  TrainOptions o = AdapterOptions("never.safetensors");
  o.mode = "bogus";
  EXPECT_EQ(RunTrainer(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o = AdapterOptions("never.safetensors");
  o.variant = "shallow_x";
  auto s = RunTrainer(o, nullptr).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("shallow_x"));
  o = AdapterOptions("never.safetensors");
  o.data_dir = *root_ + "/no_such_data";
  EXPECT_EQ(RunTrainer(o, nullptr).status().code(), absl::StatusCode::kNotFound);
  o = AdapterOptions("never.safetensors");
  o.device = "tpu";
  EXPECT_EQ(RunTrainer(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o = AdapterOptions("never.safetensors");
  o.batch_size = 0;
  EXPECT_EQ(RunTrainer(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(*root_ + "/never.safetensors"));
}

}  // namespace
}  // namespace vlsm
