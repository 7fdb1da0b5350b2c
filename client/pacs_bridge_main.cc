// vlsm-pacs-bridge: a DICOM Storage SCP that segments incoming series
// through vlsm-server and stores DICOM SEG objects back (client/pacs-bridge.md).
//
// SIGTERM / SIGINT: stop accepting associations (running ones finish), stop
// the loops, exit 0. Work in progress stays in the spool and resumes at the
// next start.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/pacs_bridge.h"
#include "client/pacs_privacy.h"
#include "dcmtk/oflog/oflog.h"
#include "model/safetensors.h"
#include "server/shutdown_signals.h"

ABSL_FLAG(std::string, ae_title, "VLSM_BRIDGE",
          "Our DICOM AE title (1-16 characters). Associations that call another AE title are "
          "refused. Configure it as the bridge's AET in the PACS.");
ABSL_FLAG(int, port, 11112, "TCP port of our Storage SCP (C-ECHO, C-STORE).");
ABSL_FLAG(std::string, accepted_sop_classes, "",
          "Comma-separated SOP classes accepted (UIDs or DCMTK names such as CTImageStorage). "
          "Empty: CT, MR, CR, DX, MG, US, Secondary Capture and PET image storage.");
ABSL_FLAG(std::string, transfer_syntaxes, "",
          "Comma-separated transfer syntaxes accepted, most preferred first (UIDs or DCMTK "
          "names). Empty: explicit/implicit little endian, deflated, JPEG, JPEG-LS, JPEG 2000, "
          "RLE.");
ABSL_FLAG(std::string, allowed_calling_aes, "",
          "Comma-separated calling AE titles allowed to send to us. Empty: any.");
ABSL_FLAG(int, max_associations, 8, "Associations served at the same time.");
ABSL_FLAG(std::string, spool, "",
          "Spool directory (required): received instances, built SEGs awaiting delivery and the "
          "journal. Must be on a local file system; work in it resumes after a restart.");
ABSL_FLAG(std::string, routes, "",
          "Routing rules, JSON (required; see client/pacs-bridge.md): match Modality, "
          "BodyPartExamined, SeriesDescription, calling AE (RE2, full match) -> task, prompts, "
          "threshold. First match wins; unmatched series are logged and skipped.");
ABSL_FLAG(double, quiet_seconds, 10,
          "A series is processed once no instance of it arrived for this long.");
ABSL_FLAG(std::string, target, "localhost:50051", "vlsm-server address (host:port).");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle to verify vlsm-server; enables TLS.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mTLS), with --tls_key.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, token_file, "",
          "File holding a bearer token sent to vlsm-server (optional).");
ABSL_FLAG(int, max_in_flight, 4, "Slices of one series outstanding on SegmentStream at a time.");
ABSL_FLAG(double, rpc_deadline_seconds, 300,
          "Deadline of one series' SegmentStream; a series that misses it is retried.");
ABSL_FLAG(std::string, dest_host, "", "Host of the DICOM destination for SEGs (C-STORE).");
ABSL_FLAG(int, dest_port, 104, "Port of the DICOM destination.");
ABSL_FLAG(std::string, dest_ae, "", "AE title of the DICOM destination; empty: no C-STORE.");
ABSL_FLAG(std::string, stow_url, "",
          "DICOMweb base URL for STOW-RS (POSTs {url}/studies), e.g. "
          "http://pacs:8042/dicom-web; empty: no STOW-RS.");
ABSL_FLAG(std::string, stow_auth_file, "",
          "File holding user:password for STOW-RS HTTP basic authentication (optional).");
ABSL_FLAG(std::string, stow_token_file, "", "File holding a bearer token for STOW-RS (optional).");
ABSL_FLAG(double, retry_initial_seconds, 2,
          "First wait after a failed delivery or an unavailable service; doubles per failure.");
ABSL_FLAG(double, retry_max_seconds, 300, "Longest wait between retries.");
ABSL_FLAG(bool, omit_empty_frames, false,
          "Leave frames with an empty mask out of the SEG (a rule's omit_empty_frames wins). "
          "Default: one frame per source slice.");
ABSL_FLAG(std::string, base_model_name, "CLIPSeg",
          "Base model name recorded as the SEG's Segment Algorithm Name (with the adapter "
          "name@version the service reports).");
ABSL_FLAG(int, seg_series_number, 9001, "Series Number of the SEG series.");
ABSL_FLAG(int, metrics_port, 9091, "Prometheus /metrics port; 0 disables metrics.");
ABSL_FLAG(std::string, metrics_bind, "0.0.0.0", "Address /metrics binds to.");

namespace vlsm::pacs {
namespace {

std::vector<std::string> List(const std::string& csv) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(csv, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

absl::StatusOr<std::string> ReadSecret(const std::string& path) {
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return std::string(absl::StripAsciiWhitespace(*text));
}

int Fail(const absl::Status& s, int code) {
  std::cerr << "vlsm-pacs-bridge: " << s << "\n";
  return code;
}

int Run() {
  const ShutdownSignals signals;  // before any thread starts

  if (absl::GetFlag(FLAGS_spool).empty())
    return Fail(absl::InvalidArgumentError("--spool is required"), 2);
  if (absl::GetFlag(FLAGS_routes).empty())
    return Fail(absl::InvalidArgumentError("--routes is required"), 2);
  if (absl::GetFlag(FLAGS_quiet_seconds) < 0)
    return Fail(absl::InvalidArgumentError("--quiet_seconds must be >= 0"), 2);
  auto router = Router::Load(absl::GetFlag(FLAGS_routes));
  if (!router.ok()) return Fail(router.status(), 2);
  auto spool = Spool::Open(absl::GetFlag(FLAGS_spool));
  if (!spool.ok()) return Fail(spool.status(), 1);

  GrpcSegmenterOptions grpc_options;
  grpc_options.target = absl::GetFlag(FLAGS_target);
  grpc_options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  grpc_options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  grpc_options.tls_key = absl::GetFlag(FLAGS_tls_key);
  auto token = ReadSecret(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return Fail(token.status(), 2);
  grpc_options.token = *token;
  grpc_options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  grpc_options.deadline = absl::Seconds(absl::GetFlag(FLAGS_rpc_deadline_seconds));
  auto segmenter = MakeGrpcSegmenter(grpc_options);
  if (!segmenter.ok()) return Fail(segmenter.status(), 2);

  std::vector<std::unique_ptr<SegTransport>> transports;
  if (!absl::GetFlag(FLAGS_dest_ae).empty()) {
    if (absl::GetFlag(FLAGS_dest_host).empty()) {
      return Fail(absl::InvalidArgumentError("--dest_ae needs --dest_host"), 2);
    }
    CStoreDestination d;
    d.host = absl::GetFlag(FLAGS_dest_host);
    d.port = absl::GetFlag(FLAGS_dest_port);
    d.called_ae = absl::GetFlag(FLAGS_dest_ae);
    d.calling_ae = absl::GetFlag(FLAGS_ae_title);
    transports.push_back(MakeCStoreTransport(d));
  }
  if (!absl::GetFlag(FLAGS_stow_url).empty()) {
    StowDestination d;
    d.url = absl::GetFlag(FLAGS_stow_url);
    auto auth = ReadSecret(absl::GetFlag(FLAGS_stow_auth_file));
    if (!auth.ok()) return Fail(auth.status(), 2);
    d.basic_auth = *auth;
    auto bearer = ReadSecret(absl::GetFlag(FLAGS_stow_token_file));
    if (!bearer.ok()) return Fail(bearer.status(), 2);
    d.bearer_token = *bearer;
    transports.push_back(MakeStowTransport(d));
  }
  if (transports.empty()) {
    return Fail(
        absl::InvalidArgumentError("give a destination: --dest_ae/--dest_host or --stow_url"), 2);
  }

  std::unique_ptr<BridgeMetrics> metrics;
  if (absl::GetFlag(FLAGS_metrics_port) == 0) {
    metrics = MakeNullBridgeMetrics();
  } else {
    auto started = StartBridgeMetrics(
        absl::StrCat(absl::GetFlag(FLAGS_metrics_bind), ":", absl::GetFlag(FLAGS_metrics_port)));
    if (!started.ok()) return Fail(started.status(), 1);
    metrics = *std::move(started);
  }

  BackoffPolicy backoff;
  backoff.initial = absl::Seconds(absl::GetFlag(FLAGS_retry_initial_seconds));
  backoff.max = absl::Seconds(absl::GetFlag(FLAGS_retry_max_seconds));
  std::vector<SegTransport*> raw_transports;
  for (auto& t : transports) raw_transports.push_back(t.get());
  DeliveryQueue delivery(spool->get(), raw_transports, backoff, RealClock(), metrics.get());
  ProcessorOptions processor_options;
  processor_options.omit_empty_frames = absl::GetFlag(FLAGS_omit_empty_frames);
  processor_options.base_model_name = absl::GetFlag(FLAGS_base_model_name);
  processor_options.series_number = absl::GetFlag(FLAGS_seg_series_number);
  SeriesProcessor processor(spool->get(), router->get(), segmenter->get(), &delivery,
                            processor_options);
  SeriesAssembler assembler(absl::Seconds(absl::GetFlag(FLAGS_quiet_seconds)));
  PacsBridge bridge(spool->get(), &assembler, &processor, &delivery, backoff, RealClock(),
                    metrics.get());
  bridge.Start();

  ScpOptions scp_options;
  scp_options.ae_title = absl::GetFlag(FLAGS_ae_title);
  scp_options.port = absl::GetFlag(FLAGS_port);
  scp_options.sop_classes = List(absl::GetFlag(FLAGS_accepted_sop_classes));
  scp_options.transfer_syntaxes = List(absl::GetFlag(FLAGS_transfer_syntaxes));
  scp_options.allowed_calling_aes = List(absl::GetFlag(FLAGS_allowed_calling_aes));
  scp_options.max_associations = absl::GetFlag(FLAGS_max_associations);
  auto scp = StorageScp::Start(scp_options, spool->get(), metrics.get(),
                               [&bridge](const StoredInstance& s) { bridge.OnStored(s); });
  if (!scp.ok()) {
    bridge.Stop();
    return Fail(scp.status(), 1);
  }
  LogLine(absl::StrCat("listening as ", scp_options.ae_title, " on port ", scp_options.port, "; ",
                       (*router)->size(), " routing rule(s); service ", grpc_options.target,
                       "; metrics port ", metrics->port()));

  const int signal = signals.Wait();
  LogLine(absl::StrCat("signal ", signal, ", stopping"));
  scp->reset();  // finish running associations first: their instances are spooled
  bridge.Stop();
  LogLine("stopped");
  return 0;
}

}  // namespace
}  // namespace vlsm::pacs

int main(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "pacs_bridge_main");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "A DICOM Storage SCP that segments each incoming series through vlsm-server and stores\n"
      "one DICOM SEG per (series, prompt) back to the PACS. See client/pacs-bridge.md.\n"
      "  vlsm-pacs-bridge --spool DIR --routes routes.json --target HOST:50051 \\\n"
      "      --dest_host PACS --dest_port 4242 --dest_ae ORTHANC [--stow_url URL]");
  absl::ParseCommandLine(argc, argv);
  // DCMTK's own log could print identifiers (it dumps data sets at debug
  // level); keep it to fatal errors.
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  return vlsm::pacs::Run();
}
