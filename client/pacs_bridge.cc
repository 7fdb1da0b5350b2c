#include "client/pacs_bridge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/pacs_instance.h"
#include "client/pacs_privacy.h"
#include "client/pacs_slice_order.h"
#include "model/dicom_seg.h"

namespace vlsm::pacs {
namespace {

// The service refused the data itself; trying again cannot help.
bool Permanent(const absl::Status& s) { return s.code() == absl::StatusCode::kInvalidArgument; }

std::string AdapterName(const SeriesMasks& masks) {
  if (masks.task.empty()) return "";
  return absl::StrCat(masks.task, "@", masks.adapter_version);
}

}  // namespace

const char* OutcomeName(SeriesProcessor::Outcome outcome) {
  switch (outcome) {
    case SeriesProcessor::Outcome::kSegmented:
      return "segmented";
    case SeriesProcessor::Outcome::kUnrouted:
      return "unrouted";
    case SeriesProcessor::Outcome::kRetry:
      return "retry";
    case SeriesProcessor::Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

SeriesProcessor::Outcome SeriesProcessor::Process(const std::string& series_key,
                                                  absl::Time last_received) {
  // The key is already a digest of the UID; its first 12 hex equal Redact(uid).
  const std::string tag = absl::StrCat("series #", series_key.substr(0, 12));
  std::vector<std::string> paths = spool_->InstancePaths(series_key);
  std::vector<std::string> bytes;
  std::vector<InstanceInfo> infos;
  std::vector<std::string> kept_paths;
  for (const std::string& path : paths) {
    std::string b;
    auto info = ReadInstanceFile(path, &b);
    if (!info.ok()) {
      // Checked before it was acknowledged, so this is disk damage: set it aside.
      LogLine(
          absl::StrCat(tag, ": unreadable spooled instance set aside: ", info.status().message()));
      (void)spool_->QuarantineSeries(series_key, {path});
      continue;
    }
    bytes.push_back(std::move(b));
    infos.push_back(*std::move(info));
    kept_paths.push_back(path);
  }
  if (infos.empty()) return Outcome::kUnrouted;
  std::vector<std::string> sops;
  for (const InstanceInfo& i : infos) sops.push_back(i.sop_uid);

  const InstanceInfo& first = infos.front();
  const SeriesAttributes attributes{first.modality, first.body_part, first.series_description,
                                    first.calling_ae};
  const Route* route = router_->Match(attributes);
  if (route == nullptr) {
    LogLine(absl::StrFormat("%s (%d instances, modality %s, from %s) matched no rule; skipped", tag,
                            infos.size(), first.modality, first.calling_ae));
    if (absl::Status s = spool_->FinishSeries(series_key, sops, kept_paths); !s.ok()) {
      LogLine(absl::StrCat(tag, ": ", s.message()));
    }
    return Outcome::kUnrouted;
  }

  std::vector<SliceGeometry> geometry;
  for (const InstanceInfo& i : infos) geometry.push_back(i.geometry);
  const std::vector<size_t> order = SliceOrder(geometry);

  const std::string work = Spool::WorkKey(first.series_uid, sops);
  std::vector<std::string> names;
  bool built = true;
  for (size_t k = 0; k < route->prompts.size(); ++k) {
    names.push_back(absl::StrCat(work, ".p", k, ".dcm"));
    built = built && spool_->OutboxHas(names.back());
  }

  if (!built) {  // else a crash hit after the SEGs were written: reuse them
    std::vector<SliceInput> slices;
    std::vector<std::string_view> sources;
    for (size_t i : order) {
      slices.push_back({bytes[i], infos[i].rows, infos[i].cols});
      sources.push_back(bytes[i]);
    }
    const absl::Time start = absl::Now();
    auto masks = segmenter_->Segment(slices, *route);
    if (!masks.ok()) {
      LogLine(absl::StrCat(tag, " (rule ", route->rule_name,
                           "): segmentation failed: ", masks.status().ToString()));
      if (!Permanent(masks.status())) return Outcome::kRetry;
      (void)spool_->QuarantineSeries(series_key, kept_paths);
      return Outcome::kFailed;
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    const std::string adapter = AdapterName(*masks);
    SegProvenance provenance;
    provenance.algorithm_name = adapter.empty()
                                    ? options_.base_model_name
                                    : absl::StrCat(options_.base_model_name, " + ", adapter);
    provenance.algorithm_version =
        absl::StrCat("vlsm-serve ", options_.software_version, "; ",
                     adapter.empty() ? std::string("base model") : "adapter " + adapter);
    provenance.software_version = options_.software_version;
    provenance.series_number = options_.series_number;
    SegOptions seg_options;
    seg_options.omit_empty_frames = route->omit_empty_frames.value_or(options_.omit_empty_frames);
    for (size_t k = 0; k < masks->prompts.size(); ++k) {
      std::vector<SegSegment> segments(1);
      segments[0].label = masks->prompts[k].prompt;
      segments[0].frames = std::move(masks->prompts[k].frames);
      auto seg = BuildDicomSeg(sources, segments, provenance, seg_options);
      if (!seg.ok()) {
        LogLine(absl::StrCat(tag, ": building the SEG failed: ", seg.status().message()));
        (void)spool_->QuarantineSeries(series_key, kept_paths);
        return Outcome::kFailed;
      }
      if (absl::Status s = spool_->WriteOutbox(names[k], *seg); !s.ok()) {
        LogLine(absl::StrCat(tag, ": writing the SEG failed: ", s.message()));
        return Outcome::kRetry;
      }
    }
    LogLine(
        absl::StrFormat("%s (rule %s): %d slices x %d prompts segmented in %.2f s (%.1f "
                        "slices/s), %d SEG(s) queued",
                        tag, route->rule_name, slices.size(), route->prompts.size(), seconds,
                        seconds > 0 ? slices.size() / seconds : 0.0, names.size()));
  }
  if (absl::Status s = spool_->FinishSeries(series_key, sops, kept_paths); !s.ok()) {
    LogLine(absl::StrCat(tag, ": ", s.message()));
  }
  for (const std::string& name : names) delivery_->Enqueue(name, last_received);
  return Outcome::kSegmented;
}

PacsBridge::PacsBridge(Spool* spool, SeriesAssembler* assembler, SeriesProcessor* processor,
                       DeliveryQueue* delivery, BackoffPolicy series_retry, Clock* clock,
                       BridgeMetrics* metrics)
    : spool_(spool),
      assembler_(assembler),
      processor_(processor),
      delivery_(delivery),
      series_retry_(series_retry),
      clock_(clock),
      metrics_(metrics) {}

PacsBridge::~PacsBridge() { Stop(); }

void PacsBridge::Start() {
  const std::vector<PendingSeries> pending = spool_->ScanIncoming();
  for (const PendingSeries& p : pending) assembler_->Arrived(p.key, p.last_received);
  delivery_->EnqueueSpooled();
  if (!pending.empty() || delivery_->size() > 0) {
    LogLine(absl::StrCat("spool: ", pending.size(), " series and ", delivery_->size(),
                         " SEG(s) to deliver resumed"));
  }
  metrics_->SpoolSeries(assembler_->size());
  processor_thread_ = std::thread([this] { ProcessLoop(); });
  delivery_thread_ = std::thread([this] { DeliveryLoop(); });
}

void PacsBridge::OnStored(const StoredInstance& stored) {
  assembler_->Arrived(stored.series_key, stored.received);
  metrics_->SpoolSeries(assembler_->size());
  Wake();
}

void PacsBridge::Wake() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  wake_.SignalAll();
}

void PacsBridge::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  processor_->Cancel();
  if (processor_thread_.joinable()) processor_thread_.join();
  if (delivery_thread_.joinable()) delivery_thread_.join();
}

bool PacsBridge::WaitForWork(std::optional<absl::Time> due) {
  const absl::Duration wait =
      std::min(absl::Seconds(1),
               due ? std::max(absl::ZeroDuration(), *due - clock_->Now()) : absl::Seconds(1));
  absl::MutexLock lock(&mu_);
  const uint64_t seen = generation_;
  const absl::Time deadline = absl::Now() + wait;
  while (!stopping_ && generation_ == seen && !wake_.WaitWithDeadline(&mu_, deadline)) {
  }
  return !stopping_;
}

void PacsBridge::ProcessLoop() {
  for (;;) {
    for (const ReadySeries& series : assembler_->TakeReady(clock_->Now())) {
      const SeriesProcessor::Outcome outcome =
          processor_->Process(series.key, series.last_received);
      metrics_->SeriesProcessed(OutcomeName(outcome));
      if (outcome == SeriesProcessor::Outcome::kRetry) {
        assembler_->RetryAt(series, clock_->Now() + series_retry_.Delay(series.attempts + 1));
      }
      metrics_->SpoolSeries(assembler_->size());
      Wake();  // the delivery loop has new work
    }
    // Sleep until the next series is due, an instance arrives, or Stop.
    if (!WaitForWork(assembler_->NextDue())) return;
  }
}

void PacsBridge::DeliveryLoop() {
  for (;;) {
    delivery_->RunDue();
    if (!WaitForWork(delivery_->NextDue())) return;
  }
}

}  // namespace vlsm::pacs
