#include "client/pacs_segmenter.h"

#include <grpcpp/grpcpp.h>

#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/channel_credentials.h"
#include "model/mask.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm::pacs {
namespace {

constexpr int kMaxReceiveBytes = 64 << 20;

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

class GrpcSegmenter : public SliceSegmenter {
 public:
  GrpcSegmenter(std::shared_ptr<grpc::Channel> channel, GrpcSegmenterOptions options)
      : stub_(v1::SegmentationService::NewStub(channel)), options_(std::move(options)) {}

  absl::StatusOr<SeriesMasks> Segment(const std::vector<SliceInput>& slices,
                                      const Route& route) override {
    if (route.prompts.empty()) return absl::InvalidArgumentError("the route has no prompts");
    if (slices.empty()) return absl::InvalidArgumentError("no slices");
    grpc::ClientContext ctx;
    if (!Register(&ctx)) return absl::CancelledError("the bridge is stopping");
    struct Unregister {
      GrpcSegmenter* self;
      grpc::ClientContext* ctx;
      ~Unregister() { self->Forget(ctx); }
    } unregister{this, &ctx};
    if (!options_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.token);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    // Wait for the server (a restarting service) instead of failing at once;
    // the deadline bounds the wait.
    ctx.set_wait_for_ready(true);
    auto stream = stub_->SegmentStream(&ctx);

    SeriesMasks out;
    out.prompts.resize(route.prompts.size());
    for (size_t p = 0; p < route.prompts.size(); ++p) {
      out.prompts[p].prompt = route.prompts[p];
      out.prompts[p].frames.resize(slices.size());
    }
    std::vector<size_t> received(slices.size(), 0);

    absl::Mutex mu;
    const int limit = std::max(1, options_.max_in_flight);
    struct Shared {
      int in_flight = 0;
      bool aborted = false;
      int limit = 1;
    } shared;
    shared.limit = limit;
    std::thread sender([&] {
      for (size_t i = 0; i < slices.size(); ++i) {
        {
          absl::MutexLock lock(&mu);
          mu.Await(absl::Condition(
              +[](Shared* s) { return s->aborted || s->in_flight < s->limit; }, &shared));
          if (shared.aborted) break;
          ++shared.in_flight;
        }
        v1::SegmentRequest r;
        r.set_request_id(std::to_string(i));
        r.mutable_image()->set_encoded(std::string(slices[i].part10));
        r.mutable_image()->set_format_hint("dicom");
        for (const std::string& p : route.prompts) r.add_prompts(p);
        r.set_task(route.task);
        r.mutable_options()->set_threshold(route.threshold);
        r.mutable_options()->set_mask_encoding(v1::RLE);
        r.mutable_options()->set_model_size(false);
        if (!stream->Write(r)) break;  // the stream ended; Finish says why
      }
      stream->WritesDone();
    });

    absl::Status local;
    bool have_provenance = false;
    v1::SegmentResponse response;
    while (stream->Read(&response)) {
      if (!local.ok()) continue;
      local = Accept(response, slices, &out, &received, &have_provenance);
      absl::MutexLock lock(&mu);
      if (!local.ok()) {
        shared.aborted = true;
        ctx.TryCancel();
        continue;
      }
      size_t index = 0;
      (void)absl::SimpleAtoi(response.request_id(), &index);
      if (received[index] == route.prompts.size()) --shared.in_flight;
    }
    {
      absl::MutexLock lock(&mu);
      shared.aborted = true;  // wake a sender still waiting for a slot
    }
    sender.join();
    const absl::Status finished = FromGrpc(stream->Finish());
    if (!local.ok()) return local;
    if (!finished.ok()) return finished;
    for (size_t i = 0; i < slices.size(); ++i) {
      if (received[i] != route.prompts.size()) {
        return absl::InternalError(absl::StrCat("slice ", i, " got ", received[i], " of ",
                                                route.prompts.size(), " masks"));
      }
    }
    return out;
  }

 private:
  static absl::Status Accept(const v1::SegmentResponse& r, const std::vector<SliceInput>& slices,
                             SeriesMasks* out, std::vector<size_t>* received,
                             bool* have_provenance) {
    size_t index = 0;
    if (!absl::SimpleAtoi(r.request_id(), &index) || index >= slices.size()) {
      return absl::InternalError("a response names an unknown request");
    }
    if (r.prompt_index() >= out->prompts.size()) {
      return absl::InternalError("a response names an unknown prompt");
    }
    if (!*have_provenance) {
      out->task = r.task();
      out->adapter_version = r.adapter_version();
      *have_provenance = true;
    } else if (out->task != r.task() || out->adapter_version != r.adapter_version()) {
      // A label moved mid-series: the masks would mix two adapter versions.
      return absl::AbortedError("the adapter version changed during the series");
    }
    const SliceInput& s = slices[index];
    if (r.mask().height() != s.rows || r.mask().width() != s.cols) {
      return absl::InternalError(absl::StrCat("mask is ", r.mask().height(), "x", r.mask().width(),
                                              ", the slice ", s.rows, "x", s.cols));
    }
    auto mask = DecodeCocoRle(r.mask().data(), s.rows, s.cols);
    if (!mask.ok()) return absl::InternalError(mask.status().message());
    std::vector<uint8_t>& frame = out->prompts[r.prompt_index()].frames[index];
    if (!frame.empty()) return absl::InternalError("a mask arrived twice");
    frame = *std::move(mask);
    ++(*received)[index];
    return absl::OkStatus();
  }

  void Cancel() override {
    absl::MutexLock lock(&active_mu_);
    cancelled_ = true;
    for (grpc::ClientContext* ctx : active_) ctx->TryCancel();
  }

  bool Register(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&active_mu_);
    if (cancelled_) return false;
    active_.insert(ctx);
    return true;
  }

  void Forget(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&active_mu_);
    active_.erase(ctx);
  }

  std::unique_ptr<v1::SegmentationService::Stub> stub_;
  const GrpcSegmenterOptions options_;
  absl::Mutex active_mu_;
  bool cancelled_ ABSL_GUARDED_BY(active_mu_) = false;
  std::set<grpc::ClientContext*> active_ ABSL_GUARDED_BY(active_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<SliceSegmenter>> MakeGrpcSegmenter(
    const GrpcSegmenterOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("the service target is empty");
  auto credentials =
      ChannelCredentialsFromPemFiles(options.tls_ca, options.tls_cert, options.tls_key);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  // Reconnect quickly once a restarted service is back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return std::unique_ptr<SliceSegmenter>(
      new GrpcSegmenter(grpc::CreateCustomChannel(options.target, *credentials, args), options));
}

}  // namespace vlsm::pacs
