#include "server/server_builder.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/admin_service.h"
#include "server/engine_executor.h"
#include "server/segment_processor.h"
#include "server/segmentation_service.h"

namespace vlsm {

absl::StatusOr<std::unique_ptr<VlsmServer>> VlsmServer::Start(
    ServerOptions options, std::unique_ptr<ServerMetrics> metrics,
    std::vector<std::string>* warnings) {
  std::unique_ptr<VlsmServer> s(new VlsmServer());
  s->metrics_ = metrics ? std::move(metrics) : MakeNullMetrics();
  s->pipeline_ = options.pipeline;
  if (s->pipeline_ == nullptr) {
    auto pipeline = Pipeline::Create(options.model_dir, options.engine);
    if (!pipeline.ok()) return pipeline.status();
    s->pipeline_ = std::shared_ptr<const Pipeline>(*std::move(pipeline));
  }
  std::vector<std::string> local_warnings;
  auto registry = AdapterRegistry::Open(&s->pipeline_->engine(), options.adapter_dir,
                                        warnings ? warnings : &local_warnings,
                                        RegistryOptions{options.adapter_device_budget_bytes});
  if (!registry.ok()) return registry.status();
  s->registry_ = *std::move(registry);

  DynamicBatcher::Executor executor =
      MakeEngineExecutor(&s->pipeline_->engine(), s->registry_.get());
  // After each batch: the residency gauges (a batch may have reloaded an
  // adapter and offloaded another).
  executor = [inner = std::move(executor), m = s->metrics_.get(),
              registry = s->registry_.get()](const std::vector<const BatchTask*>& tasks) {
    auto result = inner(tasks);
    const AdapterResidency& residency = registry->residency();
    m->SetResidentAdapters(residency.resident_count(), residency.resident_bytes());
    return result;
  };
  if (options.wrap_executor) executor = options.wrap_executor(std::move(executor));
  s->batcher_ = std::make_unique<DynamicBatcher>(options.batcher, std::move(executor));
  ServerMetrics* m = s->metrics_.get();
  // Per batch: the batch histogram plus the gauges that change with traffic
  // or with admin writes (cheap: a snapshot walk and three loads).
  VlsmServer* server = s.get();
  s->batcher_->on_batch = [m, server](int images, int rows) {
    m->ObserveBatch(images, rows);
    m->SetInFlight(server->batcher_->in_flight());
    const Engine& engine = server->pipeline_->engine();
    m->SetConditionCache(engine.condition_cache_hits(), engine.condition_cache_misses());
    int loaded = 0;
    int64_t bytes = 0;
    for (const auto& [name, versions] : server->registry_->snapshot()->tasks) {
      for (const auto& [version, v] : versions) {
        ++loaded;
        bytes += v->adapter->bytes();
      }
    }
    m->SetAdapters(loaded, bytes);
  };
  s->pool_ = std::make_unique<WorkerPool>(options.cpu_workers);
  s->processor_ = std::make_unique<SegmentProcessor>(s->pipeline_.get(), s->registry_.get(),
                                                     s->batcher_.get(), s->pool_.get(), m);
  s->auth_ = std::make_unique<AdminAuth>(options.admin_token, options.allow_insecure_admin,
                                         options.admin_cert_sha256);
  s->segmentation_ = std::make_unique<SegmentationServiceImpl>(
      s->processor_.get(), s->registry_.get(), m,
      SegmentationServiceImpl::Options{options.stream_max_in_flight});
  s->admin_ = std::make_unique<AdminServiceImpl>(s->registry_.get(), s->pool_.get(), s->auth_.get(),
                                                 m, options.max_adapter_bytes);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  auto credentials = options.credentials ? options.credentials : grpc::InsecureServerCredentials();
  builder.AddListeningPort(options.address, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(s->segmentation_.get());
  builder.RegisterService(s->admin_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.address));
  }
  s->options_ = std::move(options);
  // gRPC's default health service starts out SERVING for ""; this runs
  // before any other work, so the window is the time of one call.
  s->SetServing(false);
  if (s->options_.on_listening) s->options_.on_listening(s->port_);
  if (s->options_.warmup) {
    if (absl::Status w = s->Warmup(); !w.ok()) {
      return absl::Status(w.code(), absl::StrCat("warm-up probe failed: ", w.message()));
    }
  }
  s->SetServing(true);
  return s;
}

VlsmServer::~VlsmServer() { Shutdown(absl::ZeroDuration()); }

void VlsmServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  for (const char* name : kHealthServices) health->SetServingStatus(name, serving);
}

absl::Status VlsmServer::Warmup() {
  // One gray image at the model's input size with one prompt, through the
  // batcher and the engine like any request.
  DecodedImage gray;
  gray.height = pipeline_->preprocess().height;
  gray.width = pipeline_->preprocess().width;
  gray.channels = 1;
  gray.format = "probe";
  gray.pixels.assign(gray.height * gray.width, 128.f);
  auto image = pipeline_->PrepareDecoded(std::move(gray), std::nullopt);
  if (!image.ok()) return image.status();
  auto prompt = pipeline_->EncodePrompt("a photo");
  if (!prompt.ok()) return prompt.status();
  auto task = std::make_unique<BatchTask>();
  task->image = std::move(image->pixel_values);
  task->prompts.push_back(*std::move(prompt));
  absl::Notification done;
  absl::Status result;
  task->done = [&](absl::StatusOr<std::vector<HostTensor>> logits, const BatchStats&) {
    result = logits.status();
    done.Notify();
  };
  if (absl::Status s = batcher_->Submit(std::move(task)); !s.ok()) return s;
  done.WaitForNotification();
  return result;
}

void VlsmServer::BeginDrain() { SetServing(false); }

void VlsmServer::Shutdown(absl::Duration drain) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ == nullptr) {  // Start failed part-way
    if (batcher_) batcher_->Shutdown(absl::ZeroDuration());
    if (pool_) pool_->Shutdown();
    return;
  }
  BeginDrain();
  // Server::Shutdown stops accepting at once and then waits for the calls in
  // flight, which the batcher's drain completes: run both side by side.
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(drain));
  std::thread stopper([this, deadline] { server_->Shutdown(deadline); });
  batcher_->Shutdown(drain);
  stopper.join();
  pool_->Shutdown();
  server_->Wait();
}

}  // namespace vlsm
