#include "server/bench_serve_support.h"

#include <chrono>
#include <vector>

#include "model/fingerprint.h"
#include "model/mask.h"

namespace vlsm {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

grpc::Status BenchAdmin::Upload(const std::string& bytes, const std::string& label,
                                uint64_t* version) {
  grpc::ClientContext ctx;
  Auth(&ctx);
  v1::AdapterInfo info;
  auto writer = stub_->UploadAdapter(&ctx, &info);
  constexpr size_t kChunk = size_t{1} << 20;
  for (size_t off = 0; off < bytes.size() || off == 0; off += kChunk) {
    v1::UploadChunk c;
    if (off == 0) {
      c.mutable_header()->set_name("bench");
      c.mutable_header()->set_total_bytes(bytes.size());
      c.mutable_header()->set_sha256(Sha256Hex(bytes));
      c.mutable_header()->set_label(label);
    }
    c.set_data(bytes.substr(off, kChunk));
    c.set_last(off + kChunk >= bytes.size());
    if (!writer->Write(c)) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (s.ok()) *version = info.version();
  return s;
}

grpc::Status BenchAdmin::SetLabel(const std::string& label, uint64_t version) {
  grpc::ClientContext ctx;
  Auth(&ctx);
  v1::SetLabelRequest req;
  req.set_name("bench");
  req.set_label(label);
  req.set_version(version);
  v1::AdapterInfo info;
  return stub_->SetLabel(&ctx, req, &info);
}

void BenchAdmin::Auth(grpc::ClientContext* ctx) const {
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
}

// The request's work done in process, timed: the whole pipeline (decode,
// preprocess, tokenize, engine, mask, PNG) and the engine call alone.
absl::Status InProcessOnce(const Pipeline& pipeline, const std::string& image,
                           const std::string& prompt_text, double* pipeline_ms, double* engine_ms) {
  const auto t0 = SteadyClock::now();
  auto prepared = pipeline.PrepareImage(image, "", std::nullopt);
  if (!prepared.ok()) return prepared.status();
  auto prompt = pipeline.EncodePrompt(prompt_text);
  if (!prompt.ok()) return prompt.status();
  SegmentQuery q;
  q.prompt = *prompt;
  const auto e0 = SteadyClock::now();
  auto logits = pipeline.engine().Segment({prepared->pixel_values}, {q});
  const auto e1 = SteadyClock::now();
  if (!logits.ok()) return logits.status();
  auto mask = pipeline.Mask((*logits)[0], prepared->decoded, 0.5f, MaskResize::kBilinearLogits);
  auto png = EncodeMaskPng(mask, prepared->decoded.height, prepared->decoded.width);
  if (!png.ok()) return png.status();
  *pipeline_ms = Ms(SteadyClock::now() - t0);
  *engine_ms = Ms(e1 - e0);
  return absl::OkStatus();
}

}  // namespace vlsm
