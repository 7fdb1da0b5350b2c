// segment: one file goes through Segment; several files (or any folder) go
// through one SegmentStream, a writer thread streaming the slices while this
// thread reads the masks back (the server admits several at a time).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/commands.h"
#include "client/flags.h"
#include "client/progress.h"
#include "model/cli_inputs.h"
#include "model/safetensors.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm::client {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<v1::MaskEncoding> ParseEncoding(const std::string& name) {
  if (name == "png") return v1::PNG;
  if (name == "rle") return v1::RLE;
  if (name == "probabilities") return v1::PROBABILITIES;
  return UsageError(absl::StrCat("--encoding must be png, rle or probabilities, not ", name));
}

class Segmenter {
 public:
  Segmenter(const Connection& connection, std::vector<std::string> prompts,
            std::vector<std::string> files, std::string out_dir, v1::MaskEncoding encoding)
      : connection_(connection),
        stub_(v1::SegmentationService::NewStub(connection.channel())),
        prompts_(std::move(prompts)),
        files_(std::move(files)),
        out_dir_(std::move(out_dir)),
        encoding_(encoding),
        progress_(files_.size(), "images") {}

  absl::Status RunUnary() {
    auto request = Request(0);
    if (!request.ok()) return request.status();
    auto ctx = connection_.NewContext();
    auto reader = stub_->Segment(ctx.get(), *request);
    absl::Status written;
    v1::SegmentResponse response;
    while (reader->Read(&response)) {
      if (written.ok()) written = Write(response);
    }
    if (auto s = FromGrpc(reader->Finish()); !s.ok()) return s;
    return written;
  }

  absl::Status RunStream() {
    auto ctx = connection_.NewContext();
    auto stream = stub_->SegmentStream(ctx.get());
    absl::Status local;  // a file that could not be read, written only by the writer thread
    std::thread writer([&] {
      for (size_t i = 0; i < files_.size(); ++i) {
        auto request = Request(i);
        if (!request.ok()) {
          local = request.status();
          ctx->TryCancel();
          break;
        }
        if (!stream->Write(*request)) break;  // the server ended the stream
      }
      stream->WritesDone();
    });
    absl::Status written;
    v1::SegmentResponse response;
    while (stream->Read(&response)) {
      if (written.ok()) written = Write(response);
      if (!written.ok()) ctx->TryCancel();
    }
    writer.join();
    const absl::Status finished = FromGrpc(stream->Finish());
    if (!local.ok()) return local;
    if (!written.ok()) return written;
    return finished;
  }

  void PrintSummary(absl::Duration elapsed) {
    progress_.Finish();
    std::cout << absl::StrFormat("segmented %zu of %zu images: %zu masks in %s (%.0f ms)\n",
                                 images_done_, files_.size(), masks_, out_dir_,
                                 absl::ToDoubleMilliseconds(elapsed));
  }

 private:
  absl::StatusOr<v1::SegmentRequest> Request(size_t index) const {
    const std::string& path = files_[index];
    auto bytes = ReadFileToString(path);
    if (!bytes.ok()) return bytes.status();
    v1::SegmentRequest r;
    r.set_request_id(std::to_string(index));
    r.mutable_image()->set_encoded(*std::move(bytes));
    const std::string ext = absl::AsciiStrToLower(fs::path(path).extension().string());
    if (ext == ".dcm" || ext == ".dicom") r.mutable_image()->set_format_hint("dicom");
    for (const std::string& p : prompts_) r.add_prompts(p);
    r.set_task(absl::GetFlag(FLAGS_task));
    r.mutable_options()->set_threshold(absl::GetFlag(FLAGS_threshold));
    r.mutable_options()->set_mask_encoding(encoding_);
    r.mutable_options()->set_include_overlay(absl::GetFlag(FLAGS_overlay));
    return r;
  }

  absl::Status Write(const v1::SegmentResponse& response) {
    size_t index = 0;
    if (!response.request_id().empty() && !absl::SimpleAtoi(response.request_id(), &index)) {
      return absl::InternalError(absl::StrCat("unknown request_id ", response.request_id()));
    }
    if (index >= files_.size()) {
      return absl::InternalError(absl::StrCat("request_id out of range: ", index));
    }
    const std::string base = absl::StrCat(out_dir_, "/", fs::path(files_[index]).stem().string(),
                                          "_p", response.prompt_index());
    const char* suffix = encoding_ == v1::RLE             ? "_mask.rle"
                         : encoding_ == v1::PROBABILITIES ? "_prob.f16"
                                                          : "_mask.png";
    if (auto s = WriteFileAtomically(base + suffix, response.mask().data()); !s.ok()) return s;
    if (!response.overlay_png().empty()) {
      if (auto s = WriteFileAtomically(base + "_overlay.png", response.overlay_png()); !s.ok()) {
        return s;
      }
    }
    ++masks_;
    // With --prompt the count per image is known; else the adapter's
    // defaults decide and an image counts as done at its first mask.
    const size_t seen = ++masks_per_image_[index];
    if (seen == std::max<size_t>(1, prompts_.size())) {
      ++images_done_;
      progress_.Update(images_done_);
    }
    return absl::OkStatus();
  }

  const Connection& connection_;
  std::unique_ptr<v1::SegmentationService::Stub> stub_;
  const std::vector<std::string> prompts_;
  const std::vector<std::string> files_;
  const std::string out_dir_;
  const v1::MaskEncoding encoding_;
  ProgressBar progress_;
  std::map<size_t, size_t> masks_per_image_;
  size_t masks_ = 0;
  size_t images_done_ = 0;
};

}  // namespace

absl::Status RunSegment(const Connection& connection, const std::vector<std::string>& prompts,
                        const std::vector<std::string>& inputs) {
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  if (out_dir.empty()) return UsageError("segment needs --out DIR");
  if (inputs.empty()) return UsageError("segment needs at least one input file or folder");
  auto encoding = ParseEncoding(absl::GetFlag(FLAGS_encoding));
  if (!encoding.ok()) return encoding.status();
  bool had_folder = false;
  std::vector<std::string> files = ExpandInputFiles(inputs, &had_folder);
  if (files.empty()) return absl::NotFoundError("no input files found");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", out_dir));

  const bool unary = files.size() == 1 && !had_folder;
  Segmenter segmenter(connection, prompts, std::move(files), out_dir, *encoding);
  const absl::Time start = absl::Now();
  absl::Status status = unary ? segmenter.RunUnary() : segmenter.RunStream();
  segmenter.PrintSummary(absl::Now() - start);
  return status;
}

}  // namespace vlsm::client
