#include "server/segment_processor.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/dicom_seg.h"
#include "model/mask.h"
#include "model/preprocess.h"
#include "server/request_image.h"

namespace vlsm {

struct SegmentProcessor::Job {
  Call call;
  std::vector<std::string> prompts;
  std::shared_ptr<const AdapterVersion> adapter;  // null: base model
  float threshold = 0.5f;
  DecodedImage decoded;  // filled by Prepare
};

namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

absl::Status Validate(const v1::SegmentRequest& request) {
  if (request.image().source_case() == v1::Image::SOURCE_NOT_SET ||
      (request.image().has_encoded() && request.image().encoded().empty())) {
    return absl::InvalidArgumentError("the request has no image");
  }
  if (request.prompts_size() > SegmentProcessor::kMaxPrompts) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", SegmentProcessor::kMaxPrompts, " prompts per request"));
  }
  for (const std::string& p : request.prompts()) {
    if (p.size() > SegmentProcessor::kMaxPromptBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("a prompt exceeds ", SegmentProcessor::kMaxPromptBytes, " bytes"));
    }
  }
  if (request.options().mask_encoding() == v1::DICOM_SEG) {
    if (!request.image().has_encoded()) {
      return absl::InvalidArgumentError(
          "mask_encoding DICOM_SEG needs a DICOM image (Part 10 bytes), not raw pixels");
    }
    if (request.options().model_size()) {
      return absl::InvalidArgumentError(
          "mask_encoding DICOM_SEG covers the source image's pixels; model_size is not allowed");
    }
  }
  return absl::OkStatus();
}

// What made the masks, for the SEG's audit trail: the base model's weights
// fingerprint and the adapter name@version (and its file's sha256).
SegProvenance Provenance(const std::string& base_fingerprint, const AdapterVersion* adapter) {
  SegProvenance p;
  auto short_hash = [](std::string hash) {
    if (hash.rfind("sha256:", 0) == 0) hash = hash.substr(7);
    return "sha256:" + hash.substr(0, 16);
  };
  p.algorithm_name = adapter == nullptr ? "vlsm-serve CLIPSeg (base model)"
                                        : absl::StrCat("vlsm-serve CLIPSeg + ", adapter->name, "@",
                                                       adapter->version);
  p.algorithm_version = absl::StrCat("base ", short_hash(base_fingerprint));
  if (adapter != nullptr)
    absl::StrAppend(&p.algorithm_version, "; adapter ", short_hash(adapter->sha256));
  return p;
}

// Fills `mask` with the encoding the request asked for.
absl::Status EncodeMask(const v1::SegmentOptions& options, const HostTensor& logits,
                        const std::vector<uint8_t>& bits, int64_t h, int64_t w, v1::Mask* mask) {
  mask->set_height(h);
  mask->set_width(w);
  switch (options.mask_encoding()) {
    case v1::RLE:
      mask->set_encoding(v1::RLE);
      mask->set_data(EncodeCocoRle(bits, h, w));
      break;
    case v1::PROBABILITIES: {
      mask->set_encoding(v1::PROBABILITIES);
      const bool same = logits.shape.size() == 2 && logits.shape[0] == h && logits.shape[1] == w;
      const std::vector<uint16_t> half =
          ProbabilitiesFloat16(same ? logits : ResizeLogitsBilinear(logits, h, w));
      std::string data(half.size() * 2, '\0');
      std::memcpy(data.data(), half.data(), data.size());  // little-endian host
      mask->set_data(std::move(data));
      break;
    }
    default: {
      mask->set_encoding(v1::PNG);
      auto png = EncodeMaskPng(bits, h, w);
      if (!png.ok()) return png.status();
      mask->set_data(*std::move(png));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SegmentProcessor::Start(Call call) const {
  const v1::SegmentRequest& request = *call.request;
  if (absl::Status s = Validate(request); !s.ok()) return s;
  auto job = std::make_shared<Job>();
  if (!request.task().empty()) {
    auto adapter = registry_->Resolve(request.task());
    if (!adapter.ok()) return adapter.status();
    job->adapter = *std::move(adapter);
    job->threshold = job->adapter->threshold;
  }
  job->prompts.assign(request.prompts().begin(), request.prompts().end());
  if (job->prompts.empty() && job->adapter != nullptr) job->prompts = job->adapter->prompts;
  if (job->prompts.empty()) {
    return absl::InvalidArgumentError("no prompt: give prompts or a task with default prompts");
  }
  if (request.options().threshold() > 0) job->threshold = request.options().threshold();
  job->call = std::move(call);
  pool_->Schedule([this, job] { Prepare(job); });
  return absl::OkStatus();
}

void SegmentProcessor::Prepare(std::shared_ptr<Job> job) const {
  const v1::SegmentRequest& request = *job->call.request;
  auto prepared = PrepareRequestImage(*pipeline_, request.image());
  if (!prepared.ok()) return job->call.done(prepared.status());
  auto task = std::make_unique<BatchTask>();
  for (const std::string& text : job->prompts) {
    auto prompt = pipeline_->EncodePrompt(text);
    if (!prompt.ok()) return job->call.done(prompt.status());
    task->prompts.push_back(*std::move(prompt));
  }
  if (request.options().mask_encoding() == v1::DICOM_SEG && prepared->decoded.format != "dicom") {
    return job->call.done(absl::InvalidArgumentError(absl::StrCat(
        "mask_encoding DICOM_SEG needs a DICOM image; this one is ", prepared->decoded.format)));
  }
  job->decoded = std::move(prepared->decoded);
  task->image = std::move(prepared->pixel_values);
  task->adapter = job->adapter;
  task->priority =
      request.priority() == v1::STAT ? RequestPriority::kStat : RequestPriority::kRoutine;
  task->deadline = job->call.deadline;
  task->cancelled = job->call.cancelled;
  task->done = [this, job](absl::StatusOr<std::vector<HostTensor>> logits,
                           const BatchStats& stats) {
    if (!logits.ok()) return job->call.done(logits.status());
    // Encoding is CPU work: leave the batcher's worker at once.
    pool_->Schedule([this, job, logits = *std::move(logits), stats]() mutable {
      Encode(job, std::move(logits), stats);
    });
  };
  metrics_->SetQueueDepth(batcher_->queue_depth());
  if (absl::Status s = batcher_->Submit(std::move(task)); !s.ok()) job->call.done(s);
}

absl::Status SegmentProcessor::EncodeSeg(const Job& job, size_t k, const std::vector<uint8_t>& bits,
                                         v1::Mask* mask) const {
  const v1::Image& image = job.call.request->image();
  SegSegment segment;
  segment.label = job.prompts[k];
  segment.frames.push_back(bits);
  auto seg = BuildDicomSeg(
      std::vector<SegSource>{{std::string_view(image.encoded()), int64_t{image.frame()}}},
      {std::move(segment)}, Provenance(pipeline_->engine().fingerprint(), job.adapter.get()));
  if (!seg.ok()) return seg.status();
  mask->set_height(job.decoded.height);
  mask->set_width(job.decoded.width);
  mask->set_encoding(v1::DICOM_SEG);
  mask->set_data(*std::move(seg));
  return absl::OkStatus();
}

void SegmentProcessor::Encode(std::shared_ptr<Job> job, std::vector<HostTensor> logits,
                              const BatchStats& stats) const {
  const v1::SegmentRequest& request = *job->call.request;
  const v1::SegmentOptions& options = request.options();
  const DecodedImage& decoded = job->decoded;
  const std::string task = job->adapter ? job->adapter->name : "";
  std::optional<std::vector<uint8_t>> rgb;
  std::vector<v1::SegmentResponse> out(logits.size());
  for (size_t k = 0; k < logits.size(); ++k) {
    const HostTensor& l = logits[k];
    const bool model_size = options.model_size() && l.shape.size() == 2;
    const int64_t h = model_size ? l.shape[0] : decoded.height;
    const int64_t w = model_size ? l.shape[1] : decoded.width;
    const std::vector<uint8_t> bits =
        pipeline_->Mask(l, decoded, job->threshold, MaskResize::kBilinearLogits, model_size);
    v1::SegmentResponse& r = out[k];
    r.set_request_id(request.request_id());
    r.set_prompt_index(k);
    r.set_prompt(job->prompts[k]);
    r.set_task(task);
    r.set_adapter_version(job->adapter ? job->adapter->version : 0);
    if (options.mask_encoding() == v1::DICOM_SEG) {
      if (absl::Status s = EncodeSeg(*job, k, bits, r.mutable_mask()); !s.ok()) {
        return job->call.done(s);
      }
    } else if (absl::Status s = EncodeMask(options, l, bits, h, w, r.mutable_mask()); !s.ok()) {
      return job->call.done(s);
    }
    r.mutable_mask()->set_threshold(job->threshold);
    const uint64_t fg = std::count_if(bits.begin(), bits.end(), [](uint8_t b) { return b != 0; });
    r.mutable_mask()->set_foreground_pixels(fg);
    metrics_->ObserveMask(task, fg == 0);
    if (options.include_overlay()) {
      if (!rgb) rgb = ToRgb8(decoded, RequestWindow(request.image()));
      const std::vector<uint8_t> full =
          model_size ? pipeline_->Mask(l, decoded, job->threshold, MaskResize::kBilinearLogits)
                     : bits;
      auto overlay = RenderOverlayPng(*rgb, decoded.height, decoded.width, full, job->prompts[k]);
      if (!overlay.ok()) return job->call.done(overlay.status());
      r.set_overlay_png(*std::move(overlay));
    }
  }
  const absl::Duration total = absl::Now() - job->call.received;
  for (v1::SegmentResponse& r : out) {
    v1::Timings* t = r.mutable_timings();
    t->set_queue_ms(Ms(stats.queue_time));
    t->set_compute_ms(Ms(stats.compute_time));
    t->set_total_ms(Ms(total));
    t->set_batch_size(stats.batch_images);
  }
  metrics_->ObserveLatency("queue", absl::ToDoubleSeconds(stats.queue_time));
  metrics_->ObserveLatency("compute", absl::ToDoubleSeconds(stats.compute_time));
  metrics_->ObserveLatency("total", absl::ToDoubleSeconds(total));
  job->call.done(std::move(out));
}

}  // namespace vlsm
