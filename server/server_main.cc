// vlsm-server: the gRPC segmentation service (see server/server_builder.h).
//
// SIGTERM / SIGINT: health NOT_SERVING, stop accepting, drain the batcher for
// up to --drain_timeout, shut the gRPC server down, exit 0.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dcmtk/oflog/oflog.h"
#include "model/blas_runtime.h"
#include "model/default_model.h"
#include "server/metrics.h"
#include "server/server_builder.h"
#include "server/server_credentials.h"
#include "server/shutdown_signals.h"

#if defined(VLSM_HAVE_PROMETHEUS_METRICS) && __has_include("server/prometheus_metrics.h")
#include "server/prometheus_metrics.h"
#define VLSM_USE_PROMETHEUS 1
#endif

ABSL_FLAG(std::string, model, "",
          "Hugging Face CLIPSeg model directory (config.json, model.safetensors, tokenizer "
          "files, preprocessor_config.json). Default: the embedded default model (model/default, "
          "or $VLSM_DEFAULT_MODEL).");
ABSL_FLAG(int, port, 50051, "gRPC port (0: any free port; the bound port is printed).");
ABSL_FLAG(int, metrics_port, 9090, "Prometheus /metrics port; 0 disables metrics.");
ABSL_FLAG(std::string, adapter_dir, "./adapters",
          "Directory of persisted adapter versions (created if missing; reloaded at start).");
ABSL_FLAG(int, max_batch_size, 8, "Images per engine batch.");
ABSL_FLAG(int, max_queue_delay_ms, 2,
          "How long the oldest queued request may wait for a fuller batch, in ms.");
ABSL_FLAG(int, max_queue_size, 256,
          "Queued requests before new ones are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, stream_max_in_flight, 8, "Requests admitted at a time per SegmentStream.");
ABSL_FLAG(int, cpu_workers, 4, "Threads for image decoding, mask encoding and admin writes.");
ABSL_FLAG(int, threads, 0, "Torch intra-op threads (0: all cores).");
ABSL_FLAG(std::string, device, "cpu", "Engine device: cpu, cuda or cuda:N.");
ABSL_FLAG(std::string, dtype, "float32", "Engine dtype: float32, bfloat16 or float16 (CUDA).");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate chain; enables TLS with --tls_key.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the bearer token AdapterAdmin RPCs must present "
          "(`authorization: Bearer <token>`). Without it admin RPCs are refused.");
ABSL_FLAG(std::string, admin_cert_fingerprints_file, "",
          "File listing SHA-256 fingerprints (one per line, as `openssl x509 -noout "
          "-fingerprint -sha256` prints them) of client certificates that may call "
          "AdapterAdmin RPCs without a token. Needs --tls_client_ca (mTLS).");
ABSL_FLAG(int64_t, adapter_device_budget_bytes, 0,
          "Bytes of adapter weights kept on the serving device; idle unpinned adapters "
          "beyond it are offloaded to host memory (least recently used first) and "
          "reloaded on use. 0: no limit.");
ABSL_FLAG(bool, allow_insecure_admin, false,
          "Allow AdapterAdmin RPCs without a token when no --admin_token_file is set "
          "(development only).");
ABSL_FLAG(uint64_t, max_adapter_bytes, uint64_t{256} << 20, "Largest adapter upload, in bytes.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(30),
          "On SIGTERM/SIGINT, how long in-flight requests may take to finish.");

namespace vlsm {
namespace {

absl::StatusOr<std::unique_ptr<ServerMetrics>> Metrics() {
  const int port = absl::GetFlag(FLAGS_metrics_port);
  if (port == 0) return MakeNullMetrics();
#ifdef VLSM_USE_PROMETHEUS
  return StartPrometheusMetrics(absl::StrCat("0.0.0.0:", port));
#else
  std::cerr << "vlsm-server: built without the Prometheus exporter; metrics are off\n";
  return MakeNullMetrics();
#endif
}

absl::StatusOr<ServerOptions> OptionsFromFlags() {
  ServerOptions o;
  auto model_dir = ModelDirOrDefault(absl::GetFlag(FLAGS_model));
  if (!model_dir.ok()) return model_dir.status();
  o.model_dir = *model_dir;
  o.engine.device = absl::GetFlag(FLAGS_device);
  o.engine.dtype = absl::GetFlag(FLAGS_dtype);
  o.engine.num_threads = absl::GetFlag(FLAGS_threads);
  o.adapter_dir = absl::GetFlag(FLAGS_adapter_dir);
  o.address = absl::StrCat("0.0.0.0:", absl::GetFlag(FLAGS_port));
  auto credentials =
      ServerCredentialsFromPemFiles(absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                    absl::GetFlag(FLAGS_tls_client_ca));
  if (!credentials.ok()) return credentials.status();
  o.credentials = *credentials;
  o.batcher.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  o.batcher.max_queue_delay = absl::Milliseconds(absl::GetFlag(FLAGS_max_queue_delay_ms));
  o.batcher.max_queue_size = absl::GetFlag(FLAGS_max_queue_size);
  o.stream_max_in_flight = absl::GetFlag(FLAGS_stream_max_in_flight);
  o.cpu_workers = absl::GetFlag(FLAGS_cpu_workers);
  o.max_adapter_bytes = absl::GetFlag(FLAGS_max_adapter_bytes);
  o.allow_insecure_admin = absl::GetFlag(FLAGS_allow_insecure_admin);
  if (!absl::GetFlag(FLAGS_admin_token_file).empty()) {
    auto token = AdminAuth::ReadTokenFile(absl::GetFlag(FLAGS_admin_token_file));
    if (!token.ok()) return token.status();
    o.admin_token = *token;
  }
  if (const std::string path = absl::GetFlag(FLAGS_admin_cert_fingerprints_file); !path.empty()) {
    if (absl::GetFlag(FLAGS_tls_client_ca).empty()) {
      return absl::InvalidArgumentError(
          "--admin_cert_fingerprints_file needs --tls_client_ca (client certificates)");
    }
    auto fingerprints = AdminAuth::ReadFingerprintsFile(path);
    if (!fingerprints.ok()) return fingerprints.status();
    o.admin_cert_sha256 = *std::move(fingerprints);
  }
  o.adapter_device_budget_bytes = absl::GetFlag(FLAGS_adapter_device_budget_bytes);
  return o;
}

int Run() {
  const ShutdownSignals signals;  // before any thread starts

  auto options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "vlsm-server: " << options.status() << "\n";
    return 2;
  }
  auto metrics = Metrics();
  if (!metrics.ok()) {
    std::cerr << "vlsm-server: metrics: " << metrics.status() << "\n";
    return 1;
  }
  std::vector<std::string> warnings;
  auto server = VlsmServer::Start(*std::move(options), *std::move(metrics), &warnings);
  if (const BlasInfo blas = DescribeBlas(); !blas.suggested_core.empty()) {
    warnings.push_back(absl::StrCat("OpenBLAS runs its generic '", blas.core,
                                    "' kernels on this CPU; start with OPENBLAS_CORETYPE=",
                                    blas.suggested_core, " for faster small matrix products"));
  }
  for (const std::string& w : warnings) std::cerr << "vlsm-server: warning: " << w << "\n";
  if (!server.ok()) {
    std::cerr << "vlsm-server: " << server.status() << "\n";
    return 1;
  }
  std::cout << "vlsm-server listening on port " << (*server)->port() << std::endl;

  const int signal = signals.Wait();
  std::cout << "vlsm-server: signal " << signal << ", draining" << std::endl;
  (*server)->BeginDrain();
  (*server)->Shutdown(absl::GetFlag(FLAGS_drain_timeout));
  std::cout << "vlsm-server: stopped" << std::endl;
  return 0;
}

}  // namespace
}  // namespace vlsm

int main(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server_main");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "Serves CLIPSeg segmentation with hot-swappable VLSM adapters over gRPC.\n"
      "  vlsm-server [--model DIR] [--port 50051] [--adapter_dir ./adapters] "
      "[--admin_token_file FILE] [--tls_cert C --tls_key K [--tls_client_ca CA]]");
  absl::ParseCommandLine(argc, argv);
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  return vlsm::Run();
}
