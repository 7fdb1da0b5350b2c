#include "server/upload_reactor.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "model/fingerprint.h"
#include "server/admin_service.h"
#include "server/status_util.h"

namespace vlsm {

UploadReactor::UploadReactor(AdapterRegistry* registry, WorkerPool* pool, ServerMetrics* metrics,
                             const absl::Status& auth, uint64_t max_bytes,
                             v1::AdapterInfo* response)
    : registry_(registry),
      pool_(pool),
      metrics_(metrics),
      max_bytes_(max_bytes),
      response_(response) {
  if (!auth.ok()) {
    Done(auth);
    return;
  }
  StartRead(&chunk_);
}

void UploadReactor::OnReadDone(bool ok) {
  if (!ok) {  // half-close without a chunk marked `last`
    if (!have_header_) return Done(absl::InvalidArgumentError("empty upload"));
    return Commit();
  }
  if (!Take()) return;
  if (chunk_.last()) return Commit();
  chunk_.Clear();
  StartRead(&chunk_);
}

bool UploadReactor::Take() {
  if (!have_header_) {
    if (!chunk_.has_header() || chunk_.header().name().empty()) {
      Done(absl::InvalidArgumentError("the first chunk must carry the header with a name"));
      return false;
    }
    header_ = chunk_.header();
    have_header_ = true;
    if (header_.total_bytes() == 0 || header_.total_bytes() > max_bytes_) {
      Done(absl::InvalidArgumentError(
          absl::StrCat("total_bytes must be in 1..", max_bytes_, " (--max_adapter_bytes)")));
      return false;
    }
    if (header_.sha256().size() != 64) {
      Done(absl::InvalidArgumentError("the header needs the file's sha256 (64 hex digits)"));
      return false;
    }
    data_.reserve(header_.total_bytes());
  } else if (chunk_.has_header()) {
    Done(absl::InvalidArgumentError("only the first chunk may carry a header"));
    return false;
  }
  if (data_.size() + chunk_.data().size() > header_.total_bytes()) {
    Done(absl::InvalidArgumentError("the upload exceeds the header's total_bytes"));
    return false;
  }
  data_.append(chunk_.data());
  return true;
}

void UploadReactor::Commit() {
  if (data_.size() != header_.total_bytes()) {
    return Done(absl::InvalidArgumentError(
        absl::StrCat("truncated upload: ", data_.size(), " of ", header_.total_bytes(), " bytes")));
  }
  // Hashing and Add (parse, probe, fsync) are CPU and disk work.
  pool_->Schedule([this] {
    if (Sha256Hex(data_) != absl::AsciiStrToLower(header_.sha256())) {
      return Done(absl::InvalidArgumentError("sha256 mismatch: the upload is corrupt"));
    }
    AddOptions options;
    options.prompts.assign(header_.prompts().begin(), header_.prompts().end());
    options.threshold = header_.threshold();
    options.label = header_.label();
    options.metadata.insert(header_.metadata().begin(), header_.metadata().end());
    auto added = registry_->Add(header_.name(), std::move(data_), options);
    if (!added.ok()) return Done(added.status());
    *response_ = ToAdapterInfo(**added, *registry_->snapshot(), registry_->ResidencyOf(**added));
    Done(absl::OkStatus());
  });
}

void UploadReactor::Done(const absl::Status& status) {
  metrics_->RecordRequest("UploadAdapter", status.code(), "");
  Finish(ToGrpcStatus(status));
}

}  // namespace vlsm
