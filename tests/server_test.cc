// vlsm-server in process on loopback: the services, admission control,
// admin upload and auth, health and drain, restart, and label swaps under
// load. Built with the same VlsmServer as vlsm-server's main.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "health_check.grpc.pb.h"
#include "model/fingerprint.h"
#include "model/mask.h"
#include "server/server_builder.h"
#include "tests/support/cases.h"
#include "tests/support/server_fixture.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {
namespace {

using test_support::AdapterFile;
using test_support::Image0;

constexpr char kToken[] = "s3cret-token";

// Holds batches at the executor until released (armed only on demand, so
// the warm-up probe passes).
struct Gate {
  std::atomic<bool> armed{false};
  absl::Notification entered, release;
  std::atomic<int> max_batch{0};

  std::function<DynamicBatcher::Executor(DynamicBatcher::Executor)> Wrapper() {
    return [this](DynamicBatcher::Executor inner) -> DynamicBatcher::Executor {
      return [this, inner](const std::vector<const BatchTask*>& tasks) {
        int seen = max_batch.load();
        while (static_cast<int>(tasks.size()) > seen &&
               !max_batch.compare_exchange_weak(seen, static_cast<int>(tasks.size()))) {
        }
        if (armed.load()) {
          if (!entered.HasBeenNotified()) entered.Notify();
          release.WaitForNotification();
        }
        return inner(tasks);
      };
    };
  }
};

class ServerTest : public test_support::ServerFixture {
 protected:
  ServerOptions Options() const {
    ServerOptions o = ServerFixture::Options();
    o.admin_token = kToken;
    return o;
  }

  // ServerFixture::Start plus the three stubs on its channel.
  std::unique_ptr<VlsmServer> Start(ServerOptions o) {
    std::unique_ptr<VlsmServer> server = ServerFixture::Start(std::move(o));
    if (server == nullptr) return nullptr;
    seg_ = v1::SegmentationService::NewStub(channel_);
    admin_ = v1::AdapterAdmin::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
    return server;
  }

  static v1::SegmentRequest Request(std::vector<std::string> prompts, std::string task = "") {
    v1::SegmentRequest r;
    r.mutable_image()->set_encoded(Image0());
    for (auto& p : prompts) r.add_prompts(p);
    r.set_task(task);
    return r;
  }

  grpc::Status Segment(const v1::SegmentRequest& request, std::vector<v1::SegmentResponse>* out,
                       std::optional<absl::Time> deadline = std::nullopt) {
    grpc::ClientContext ctx;
    if (deadline) ctx.set_deadline(absl::ToChronoTime(*deadline));
    auto reader = seg_->Segment(&ctx, request);
    v1::SegmentResponse r;
    while (reader->Read(&r)) out->push_back(r);
    return reader->Finish();
  }

  static void AddToken(grpc::ClientContext* ctx, const std::string& token = kToken) {
    ctx->AddMetadata("authorization", "Bearer " + token);
  }

  // Uploads `bytes` in chunks; `sha256` defaults to the right one.
  grpc::Status Upload(const std::string& name, const std::string& bytes, size_t chunk,
                      v1::AdapterInfo* info, std::string sha256 = "", uint64_t total = 0,
                      std::string label = "", std::vector<std::string> prompts = {}) {
    grpc::ClientContext ctx;
    AddToken(&ctx);
    auto writer = admin_->UploadAdapter(&ctx, info);
    for (size_t off = 0; off < bytes.size() || off == 0; off += chunk) {
      v1::UploadChunk c;
      if (off == 0) {
        c.mutable_header()->set_name(name);
        c.mutable_header()->set_total_bytes(total ? total : bytes.size());
        c.mutable_header()->set_sha256(sha256.empty() ? Sha256Hex(bytes) : sha256);
        c.mutable_header()->set_label(label);
        for (const auto& p : prompts) c.mutable_header()->add_prompts(p);
      }
      c.set_data(bytes.substr(off, chunk));
      c.set_last(off + chunk >= bytes.size());
      if (!writer->Write(c)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status SetLabel(const std::string& name, const std::string& label, uint64_t version) {
    grpc::ClientContext ctx;
    AddToken(&ctx);
    v1::SetLabelRequest req;
    req.set_name(name);
    req.set_label(label);
    req.set_version(version);
    v1::AdapterInfo info;
    return admin_->SetLabel(&ctx, req, &info);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health(const std::string& service) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = health_->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.status();
  }

  std::unique_ptr<v1::SegmentationService::Stub> seg_;
  std::unique_ptr<v1::AdapterAdmin::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

TEST_F(ServerTest, SegmentReturnsOneMaskPerPromptEqualToThePipelines) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> prompts = {"a round polyp in the colon", "skin lesion"};
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(Request(prompts), &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  std::sort(got.begin(), got.end(),
            [](const auto& a, const auto& b) { return a.prompt_index() < b.prompt_index(); });

  // What `vlsm-infer segment` computes and writes.
  const Pipeline& p = *pipeline_;
  auto image = p.PrepareImage(Image0(), "", std::nullopt);
  ASSERT_TRUE(image.ok());
  for (size_t k = 0; k < prompts.size(); ++k) {
    auto prompt = p.EncodePrompt(prompts[k]);
    auto logits = p.engine().Segment({image->pixel_values}, {{0, *prompt, nullptr}});
    ASSERT_TRUE(logits.ok());
    auto mask = p.Mask((*logits)[0], image->decoded, 0.5f, MaskResize::kBilinearLogits);
    auto png = EncodeMaskPng(mask, image->decoded.height, image->decoded.width);
    EXPECT_EQ(got[k].prompt_index(), k);
    EXPECT_EQ(got[k].prompt(), prompts[k]);
    EXPECT_EQ(got[k].adapter_version(), 0u);
    EXPECT_EQ(got[k].mask().encoding(), v1::PNG);
    EXPECT_EQ(got[k].mask().height(), 150u);
    EXPECT_EQ(got[k].mask().width(), 200u);
    EXPECT_FLOAT_EQ(got[k].mask().threshold(), 0.5f);
    EXPECT_EQ(got[k].mask().data(), *png) << k;
    EXPECT_EQ(got[k].mask().foreground_pixels(),
              static_cast<uint64_t>(std::count(mask.begin(), mask.end(), 1)));
    EXPECT_GE(got[k].timings().batch_size(), 1u);
    EXPECT_GT(got[k].timings().total_ms(), 0);
  }
}

TEST_F(ServerTest, EncodingsOverlayAndModelSize) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  auto req = Request({"skin lesion"});
  req.mutable_options()->set_mask_encoding(v1::PROBABILITIES);
  req.mutable_options()->set_include_overlay(true);
  std::vector<v1::SegmentResponse> got;
  ASSERT_TRUE(Segment(req, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mask().data().size(), 150u * 200u * 2);
  EXPECT_FALSE(got[0].overlay_png().empty());

  req.mutable_options()->set_mask_encoding(v1::RLE);
  req.mutable_options()->set_model_size(true);
  got.clear();
  ASSERT_TRUE(Segment(req, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mask().height(), 96u);
  EXPECT_FALSE(got[0].mask().data().empty());

  req.mutable_options()->set_mask_encoding(v1::DICOM_SEG);
  got.clear();
  EXPECT_EQ(Segment(req, &got).error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // not DICOM
}

TEST_F(ServerTest, BadRequestsGetTheirCodes) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  std::vector<v1::SegmentResponse> got;
  EXPECT_EQ(Segment(Request({"x"}, "nosuchtask"), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  auto corrupt = Request({"x"});
  corrupt.mutable_image()->set_encoded(Image0().substr(0, 500));
  EXPECT_EQ(Segment(corrupt, &got).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SegmentRequest no_image = Request({"x"});
  no_image.clear_image();
  EXPECT_EQ(Segment(no_image, &got).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Segment(Request(std::vector<std::string>(65, "x")), &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Segment(Request({std::string(17 << 10, 'a')}), &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Segment(Request({}), &got).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Segment(Request({"x"}), &got, absl::Now() - absl::Seconds(1)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(got.empty());
}

TEST_F(ServerTest, DeadlinePassingInTheQueueIsDeadlineExceeded) {
  Gate gate;
  ServerOptions o = Options();
  o.batcher.max_batch_size = 1;
  o.wrap_executor = gate.Wrapper();
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  gate.armed = true;
  std::thread held([&] {
    std::vector<v1::SegmentResponse> got;
    EXPECT_TRUE(Segment(Request({"x"}), &got).ok());
  });
  gate.entered.WaitForNotification();
  std::vector<v1::SegmentResponse> got;
  EXPECT_EQ(Segment(Request({"y"}), &got, absl::Now() + absl::Milliseconds(300)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  gate.release.Notify();
  held.join();
}

TEST_F(ServerTest, FullQueueIsResourceExhausted) {
  Gate gate;
  ServerOptions o = Options();
  o.batcher.max_batch_size = 1;
  o.batcher.max_queue_size = 1;
  o.wrap_executor = gate.Wrapper();
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  gate.armed = true;
  absl::Mutex mu;
  std::vector<grpc::StatusCode> codes;
  auto call = [&](const std::string& prompt) {
    std::vector<v1::SegmentResponse> got;
    grpc::StatusCode c = Segment(Request({prompt}), &got).error_code();
    absl::MutexLock lock(&mu);
    codes.push_back(c);
  };
  std::thread running(call, "a");  // held in the executor
  gate.entered.WaitForNotification();
  std::thread b(call, "b"), c(call, "c");  // one queued, one refused
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::vector<grpc::StatusCode>* v) { return !v->empty(); }, &codes));
    EXPECT_EQ(codes[0], grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  gate.release.Notify();
  running.join();
  b.join();
  c.join();
  EXPECT_EQ(std::count(codes.begin(), codes.end(), grpc::StatusCode::OK), 2);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), grpc::StatusCode::RESOURCE_EXHAUSTED), 1);
}

TEST_F(ServerTest, SegmentStreamAnswersEveryRequestOnceWithBoundedInFlight) {
  Gate gate;  // never armed: only measures batch sizes
  ServerOptions o = Options();
  o.stream_max_in_flight = 3;
  o.batcher.max_batch_size = 8;
  o.batcher.max_queue_delay = absl::Milliseconds(20);
  o.wrap_executor = gate.Wrapper();
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  grpc::ClientContext ctx;
  auto stream = seg_->SegmentStream(&ctx);
  constexpr int kRequests = 12;
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      auto r = Request({"slice", "organ"});
      r.set_request_id("slice-" + std::to_string(i));
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
  });
  std::map<std::string, int> seen;
  v1::SegmentResponse r;
  while (stream->Read(&r)) ++seen[r.request_id() + "#" + std::to_string(r.prompt_index())];
  writer.join();
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(seen.size(), 2u * kRequests);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_LE(gate.max_batch.load(), 3);  // never more than 3 admitted at once
}

TEST_F(ServerTest, SegmentStreamFailsOnADuplicateOrMissingRequestId) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  grpc::ClientContext ctx;
  auto stream = seg_->SegmentStream(&ctx);
  ASSERT_TRUE(stream->Write(Request({"x"})));  // no request_id
  stream->WritesDone();
  v1::SegmentResponse r;
  while (stream->Read(&r)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerTest, UploadLabelSegmentAndFailedUploadsChangeNothing) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  const std::string file = AdapterFile("shallow_vlc");
  v1::AdapterInfo info;
  grpc::Status s = Upload("polyp", file, 1 << 20, &info, "", 0, "", {"a colon polyp"});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.version(), 1u);
  ASSERT_EQ(info.prompts_size(), 1);
  EXPECT_EQ(info.variant(), "shallow_vlc");
  EXPECT_EQ(info.sha256(), Sha256Hex(file));
  ASSERT_TRUE(SetLabel("polyp", "stable", 1).ok());

  std::vector<v1::SegmentResponse> got;
  s = Segment(Request({"a polyp"}, "polyp@stable"), &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].task(), "polyp");
  EXPECT_EQ(got[0].adapter_version(), 1u);

  // Many small chunks accumulate to version 2.
  s = Upload("polyp", AdapterFile("dense_v"), 4096, &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.version(), 2u);

  // Truncated and corrupt uploads are refused; nothing changes.
  EXPECT_EQ(
      Upload("polyp", file.substr(0, file.size() / 2), 1 << 20, &info, Sha256Hex(file), file.size())
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Upload("polyp", file, 1 << 20, &info, std::string(64, '0')).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server->registry().snapshot()->tasks.at("polyp").size(), 2u);
  got.clear();
  s = Segment(Request({}, "polyp@stable"), &got);  // the adapter's prompts
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].prompt(), "a colon polyp");
  EXPECT_EQ(got[0].adapter_version(), 1u);

  grpc::ClientContext ctx;
  AddToken(&ctx);
  v1::ListAdaptersRequest list;
  v1::ListAdaptersResponse listed;
  ASSERT_TRUE(admin_->ListAdapters(&ctx, list, &listed).ok());
  ASSERT_EQ(listed.adapters_size(), 2);
  EXPECT_EQ(listed.adapters(0).labels(0), "stable");

  grpc::ClientContext del_ctx;
  AddToken(&del_ctx);
  v1::DeleteAdapterRequest del;
  del.set_name("polyp");
  del.set_version(1);
  v1::DeleteAdapterResponse deleted;
  EXPECT_EQ(admin_->DeleteAdapter(&del_ctx, del, &deleted).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ServerTest, AdminNeedsTheToken) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  v1::ListAdaptersRequest req;
  v1::ListAdaptersResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(admin_->ListAdapters(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, "wrong");
    EXPECT_EQ(admin_->ListAdapters(&ctx, req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    AddToken(&ctx, "wrong");
    v1::AdapterInfo info;
    auto writer = admin_->UploadAdapter(&ctx, &info);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  server.reset();
  ServerOptions o = Options();
  o.admin_token.reset();  // no token configured: admin is off
  server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  grpc::ClientContext ctx;
  AddToken(&ctx);
  EXPECT_EQ(admin_->ListAdapters(&ctx, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServerTest, HealthIsServingThenNotServingWhileDraining) {
  Gate gate;
  ServerOptions o = Options();
  o.wrap_executor = gate.Wrapper();
  auto server = Start(std::move(o));
  ASSERT_NE(server, nullptr);
  using HS = grpc::health::v1::HealthCheckResponse;
  EXPECT_EQ(Health(""), HS::SERVING);
  EXPECT_EQ(Health("vlsm.v1.SegmentationService"), HS::SERVING);
  EXPECT_EQ(Health("vlsm.v1.AdapterAdmin"), HS::SERVING);

  gate.armed = true;
  std::thread in_flight([&] {
    std::vector<v1::SegmentResponse> got;
    grpc::Status s = Segment(Request({"x"}), &got);
    EXPECT_TRUE(s.ok()) << s.error_message();  // admitted work survives the drain
    EXPECT_EQ(got.size(), 1u);
  });
  gate.entered.WaitForNotification();
  server->BeginDrain();
  EXPECT_EQ(Health(""), HS::NOT_SERVING);
  EXPECT_EQ(Health("vlsm.v1.SegmentationService"), HS::NOT_SERVING);
  std::thread stopper([&] { server->Shutdown(absl::Seconds(30)); });
  gate.release.Notify();
  in_flight.join();
  stopper.join();
}

TEST_F(ServerTest, RestartReloadsTheAdapters) {
  {
    auto server = Start(Options());
    ASSERT_NE(server, nullptr);
    v1::AdapterInfo info;
    ASSERT_TRUE(Upload("skin", AdapterFile("shallow_vl"), 1 << 20, &info, "", 0, "stable").ok());
    server->Shutdown(absl::Seconds(5));
  }
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  std::vector<v1::SegmentResponse> got;
  grpc::Status s = Segment(Request({"lesion"}, "skin@stable"), &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].adapter_version(), 1u);
}

TEST_F(ServerTest, LabelSwapsUnderLoadFailNoRequest) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  v1::AdapterInfo info;
  ASSERT_TRUE(Upload("polyp", AdapterFile("shallow_vlc"), 1 << 20, &info, "", 0, "stable").ok());
  ASSERT_TRUE(Upload("polyp", AdapterFile("dense_vl"), 1 << 20, &info).ok());
  std::atomic<int> failed{0}, ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        std::vector<v1::SegmentResponse> got;
        grpc::Status s = Segment(Request({"a polyp"}, "polyp@stable"), &got);
        (s.ok() && got.size() == 1 ? ok : failed)++;
      }
    });
  }
  int swap_failures = 0;
  for (int i = 0; i < 20; ++i) swap_failures += !SetLabel("polyp", "stable", 1 + i % 2).ok();
  for (auto& c : clients) c.join();
  EXPECT_EQ(swap_failures, 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace vlsm
