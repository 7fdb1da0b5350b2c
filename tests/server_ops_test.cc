// vlsm-server operations in process on loopback: health during warm-up,
// reflection, SegmentStream's task label, and adapter residency through the
// admin API (budget, offload, reload, pinning, AdapterInfo and metrics).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "health_check.grpc.pb.h"
#include "model/fingerprint.h"
#include "server/server_builder.h"
#include "tests/fakes/recording_metrics.h"
#include "tests/support/cases.h"
#include "tests/support/server_fixture.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {
namespace {

using test_support::AdapterFile;
using test_support::Image0;
using test_support::RecordingMetrics;
using ::testing::HasSubstr;
using HS = grpc::health::v1::HealthCheckResponse;

constexpr char kToken[] = "0ps-token";

// Holds every batch at the executor until released.
struct Gate {
  absl::Notification entered, release;
  std::function<DynamicBatcher::Executor(DynamicBatcher::Executor)> Wrapper() {
    return [this](DynamicBatcher::Executor inner) -> DynamicBatcher::Executor {
      return [this, inner](const std::vector<const BatchTask*>& tasks) {
        if (!entered.HasBeenNotified()) entered.Notify();
        release.WaitForNotification();
        return inner(tasks);
      };
    };
  }
};

HS::ServingStatus Health(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  HS resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.status();
}

class ServerOpsTest : public test_support::ServerFixture {
 protected:
  ServerOptions Options() const {
    ServerOptions o = ServerFixture::Options();
    o.admin_token = kToken;
    return o;
  }

  grpc::Status Segment(const std::string& task, std::vector<v1::SegmentResponse>* out) {
    auto stub = v1::SegmentationService::NewStub(channel_);
    v1::SegmentRequest request;
    request.mutable_image()->set_encoded(Image0());
    request.add_prompts("a round polyp");
    request.set_task(task);
    grpc::ClientContext ctx;
    auto reader = stub->Segment(&ctx, request);
    for (v1::SegmentResponse r; reader->Read(&r);) out->push_back(r);
    return reader->Finish();
  }

  grpc::Status Upload(const std::string& name, const std::string& bytes) {
    auto stub = v1::AdapterAdmin::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::AdapterInfo info;
    auto writer = stub->UploadAdapter(&ctx, &info);
    v1::UploadChunk c;
    c.mutable_header()->set_name(name);
    c.mutable_header()->set_total_bytes(bytes.size());
    c.mutable_header()->set_sha256(Sha256Hex(bytes));
    c.set_data(bytes);
    c.set_last(true);
    writer->Write(c);
    writer->WritesDone();
    return writer->Finish();
  }

  v1::AdapterInfo Get(const std::string& task) {
    auto stub = v1::AdapterAdmin::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::GetAdapterRequest req;
    req.set_task(task);
    v1::AdapterInfo info;
    grpc::Status s = stub->GetAdapter(&ctx, req, &info);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return info;
  }

  grpc::Status Pin(const std::string& task, bool pinned, v1::AdapterInfo* info) {
    auto stub = v1::AdapterAdmin::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::PinAdapterRequest req;
    req.set_task(task);
    req.set_pinned(pinned);
    return stub->PinAdapter(&ctx, req, info);
  }
};

TEST_F(ServerOpsTest, HealthIsNotServingDuringWarmUp) {
  Gate gate;
  ServerOptions o = Options();
  o.wrap_executor = gate.Wrapper();
  std::atomic<int> port{0};
  o.on_listening = [&](int p) { port = p; };
  std::unique_ptr<VlsmServer> server;
  std::thread starter([&] { server = Start(std::move(o)); });
  gate.entered.WaitForNotification();  // the warm-up probe is in the engine
  ASSERT_GT(port.load(), 0);
  auto early = test_support::LoopbackChannel(port.load());
  for (const char* service : kHealthServices) EXPECT_EQ(Health(early, service), HS::NOT_SERVING);
  gate.release.Notify();
  starter.join();
  ASSERT_NE(server, nullptr);
  for (const char* service : kHealthServices) EXPECT_EQ(Health(early, service), HS::SERVING);
}

// grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo with
// list_services, through the generic stub; the messages come from the
// descriptors gRPC's reflection library registers in the generated pool.
std::string ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel) {
  using google::protobuf::DescriptorPool;
  using google::protobuf::MessageFactory;
  const auto* pool = DescriptorPool::generated_pool();
  const auto* req_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const auto* resp_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  if (req_type == nullptr || resp_type == nullptr) return "no reflection descriptors";
  std::unique_ptr<google::protobuf::Message> req(
      MessageFactory::generated_factory()->GetPrototype(req_type)->New());
  req->GetReflection()->SetString(req.get(), req_type->FindFieldByName("list_services"), "*");
  std::string bytes = req->SerializeAsString();

  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&cq](void* tag) {
    void* got = nullptr;
    bool ok = false;
    return cq.Next(&got, &ok) && got == tag && ok;
  };
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status status;
  std::string out = "call failed";
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(reinterpret_cast<void*>(1))) {
    call->Write(request, reinterpret_cast<void*>(2));
    if (step(reinterpret_cast<void*>(2))) {
      call->Read(&response, reinterpret_cast<void*>(3));
      if (step(reinterpret_cast<void*>(3))) {
        std::vector<grpc::Slice> slices;
        (void)response.Dump(&slices);
        std::string wire;
        for (const auto& s : slices)
          wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
        std::unique_ptr<google::protobuf::Message> parsed(
            MessageFactory::generated_factory()->GetPrototype(resp_type)->New());
        out = parsed->ParseFromString(wire) ? parsed->DebugString() : "unparsable";
      }
    }
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  step(reinterpret_cast<void*>(4));
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(reinterpret_cast<void*>(5));
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST_F(ServerOpsTest, ReflectionListsOurServices) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  const std::string listing = ListServicesByReflection(channel_);
  EXPECT_THAT(listing, HasSubstr("\"vlsm.v1.SegmentationService\""));
  EXPECT_THAT(listing, HasSubstr("\"vlsm.v1.AdapterAdmin\""));
  EXPECT_THAT(listing, HasSubstr("\"grpc.health.v1.Health\""));
}

// Runs `tasks` as one SegmentStream; true when every request was answered.
bool Stream(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& tasks) {
  auto stub = v1::SegmentationService::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->SegmentStream(&ctx);
  for (size_t i = 0; i < tasks.size(); ++i) {
    v1::SegmentRequest r;
    r.set_request_id("r" + std::to_string(i));
    r.mutable_image()->set_encoded(Image0());
    r.add_prompts("a polyp");
    r.set_task(tasks[i]);
    stream->Write(r);
  }
  stream->WritesDone();
  size_t answered = 0;
  for (v1::SegmentResponse r; stream->Read(&r);) ++answered;
  return stream->Finish().ok() && answered == tasks.size();
}

TEST_F(ServerOpsTest, SegmentStreamMetricsCarryTheTask) {
  auto metrics = std::make_unique<RecordingMetrics>();
  RecordingMetrics* m = metrics.get();
  auto server = Start(Options(), std::move(metrics));
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Upload("polyp", AdapterFile("shallow_vlc")).ok());
  ASSERT_TRUE(Stream(channel_, {"polyp", "polyp@1"}));
  ASSERT_TRUE(Stream(channel_, {"polyp", ""}));  // mixed
  ASSERT_TRUE(Stream(channel_, {""}));
  std::vector<std::string> labels;
  for (const auto& r : m->requests()) {
    if (r.rpc == "SegmentStream") labels.push_back(r.task);
  }
  EXPECT_THAT(labels, ::testing::ElementsAre("polyp", "other", ""));
}

TEST_F(ServerOpsTest, ResidencyThroughTheAdminApi) {
  auto metrics = std::make_unique<RecordingMetrics>();
  RecordingMetrics* m = metrics.get();
  ServerOptions o = Options();
  auto one = pipeline_->engine().ParseAdapter(AdapterFile("shallow_vlc"));
  ASSERT_TRUE(one.ok());
  const int64_t bytes = (*one)->bytes();
  o.adapter_device_budget_bytes = bytes;  // room for one
  auto server = Start(std::move(o), std::move(metrics));
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Upload("a", AdapterFile("shallow_vlc")).ok());
  std::vector<v1::SegmentResponse> before;
  ASSERT_TRUE(Segment("a", &before).ok());
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(m->resident(), std::make_pair(1, bytes));

  ASSERT_TRUE(Upload("b", AdapterFile("shallow_vlc")).ok());  // a is offloaded
  EXPECT_FALSE(Get("a").resident());
  EXPECT_TRUE(Get("b").resident());
  std::vector<v1::SegmentResponse> after;
  ASSERT_TRUE(Segment("a", &after).ok());  // reloaded on use; b goes
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].mask().data(), before[0].mask().data());
  EXPECT_TRUE(Get("a").resident());
  EXPECT_FALSE(Get("b").resident());
  EXPECT_EQ(m->resident(), std::make_pair(1, bytes));

  v1::AdapterInfo info;
  ASSERT_TRUE(Pin("b", true, &info).ok());
  EXPECT_TRUE(info.pinned());
  EXPECT_TRUE(info.resident());
  std::vector<v1::SegmentResponse> more;
  ASSERT_TRUE(Segment("a", &more).ok());  // runs over budget; b stays
  EXPECT_TRUE(Get("b").resident());
  EXPECT_TRUE(Get("a").resident());  // until a later load makes room
  EXPECT_EQ(m->resident(), std::make_pair(2, 2 * bytes));
  EXPECT_EQ(Pin("a", true, &info).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Pin("zzz", true, &info).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Pin("b@1", false, &info).ok());
  EXPECT_FALSE(info.pinned());
  grpc::ClientContext no_token;
  v1::PinAdapterRequest req;
  req.set_task("b");
  EXPECT_EQ(v1::AdapterAdmin::NewStub(channel_)->PinAdapter(&no_token, req, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace vlsm
