// Assembles and runs the whole server: Pipeline, AdapterRegistry,
// DynamicBatcher, WorkerPool, the two gRPC services, health checking and
// reflection. vlsm-server's main and the in-process tests share this code.
//
// Lifecycle: Start() loads the model and adapters, binds the port, marks
// every service NOT_SERVING, runs one probe Segment through the batcher
// (warm-up), then marks them SERVING. BeginDrain() marks them NOT_SERVING
// (load balancers stop sending); Shutdown(drain) then stops accepting RPCs,
// drains the batcher for up to `drain`, shuts the gRPC server down with the
// same deadline (cancelling what is left) and stops the pool.
//
// Ownership: VlsmServer owns everything it builds; the Pipeline may be
// shared with the caller (tests reuse one model across servers).
// Threading: port(), registry(), batcher() are safe from any thread;
// BeginDrain and Shutdown from any thread except an RPC or pool thread.
// Errors: Start returns the first failure (model, adapter dir, bind, probe).
#ifndef VLSM_SERVER_SERVER_BUILDER_H_
#define VLSM_SERVER_SERVER_BUILDER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model/pipeline.h"
#include "server/adapter_registry.h"
#include "server/admin_auth.h"
#include "server/batcher.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace vlsm {

class AdminServiceImpl;
class SegmentationServiceImpl;
class SegmentProcessor;

struct ServerOptions {
  std::string model_dir;  // used unless `pipeline` is set
  EngineOptions engine;
  std::shared_ptr<const Pipeline> pipeline;  // optional: an already loaded model
  std::string adapter_dir = "./adapters";
  std::string address = "0.0.0.0:50051";                 // port 0: any free port
  std::shared_ptr<grpc::ServerCredentials> credentials;  // null: insecure
  DynamicBatcher::Options batcher;
  int cpu_workers = 4;  // decode / encode / admin-write threads
  int stream_max_in_flight = 8;
  uint64_t max_adapter_bytes = uint64_t{256} << 20;
  int64_t adapter_device_budget_bytes = 0;  // 0: every adapter stays on the device
  int max_message_bytes = 64 << 20;         // per gRPC message (images)
  std::optional<std::string> admin_token;   // nullopt: none configured
  std::set<std::string> admin_cert_sha256;  // fingerprints of admin client certificates
  bool allow_insecure_admin = false;
  // Tests: wraps the engine executor (e.g. to hold a batch).
  std::function<DynamicBatcher::Executor(DynamicBatcher::Executor)> wrap_executor;
  bool warmup = true;
  // Called once the port is bound and health says NOT_SERVING, before the
  // warm-up probe (announce the port early; tests watch the warm-up).
  std::function<void(int port)> on_listening;
};

// Health service names the server reports ("" is the whole server).
inline constexpr const char* kHealthServices[] = {"", "vlsm.v1.SegmentationService",
                                                  "vlsm.v1.AdapterAdmin"};

class VlsmServer {
 public:
  // `metrics`: null means MakeNullMetrics(). `warnings` (optional) receives
  // the registry's load warnings.
  static absl::StatusOr<std::unique_ptr<VlsmServer>> Start(
      ServerOptions options, std::unique_ptr<ServerMetrics> metrics,
      std::vector<std::string>* warnings = nullptr);
  ~VlsmServer();  // Shutdown(absl::ZeroDuration()) unless it already ran

  int port() const { return port_; }
  AdapterRegistry& registry() { return *registry_; }
  DynamicBatcher& batcher() { return *batcher_; }
  const Pipeline& pipeline() const { return *pipeline_; }

  void BeginDrain();
  void Shutdown(absl::Duration drain) ABSL_LOCKS_EXCLUDED(shutdown_mu_);

 private:
  VlsmServer() = default;
  absl::Status Warmup();
  void SetServing(bool serving);

  ServerOptions options_;
  int port_ = 0;
  // Declared in construction order; destroyed in reverse (server first).
  std::unique_ptr<ServerMetrics> metrics_;
  std::shared_ptr<const Pipeline> pipeline_;
  std::unique_ptr<AdapterRegistry> registry_;
  std::unique_ptr<DynamicBatcher> batcher_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<SegmentProcessor> processor_;
  std::unique_ptr<AdminAuth> auth_;
  std::unique_ptr<SegmentationServiceImpl> segmentation_;
  std::unique_ptr<AdminServiceImpl> admin_;
  std::unique_ptr<grpc::Server> server_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_SERVER_BUILDER_H_
