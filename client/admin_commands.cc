// upload, list, label, delete, pin, unpin: AdapterAdmin RPCs; results as JSON lines.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/flags.h"
#include "client/progress.h"
#include "model/fingerprint.h"
#include "model/safetensors.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm::client {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

void PrintJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) json = "{}";
  std::cout << json << "\n";
}

absl::Status RequireName() {
  if (absl::GetFlag(FLAGS_name).empty()) return UsageError("--name is required");
  return absl::OkStatus();
}

}  // namespace

absl::Status RunUpload(const Connection& connection, const std::vector<std::string>& prompts) {
  if (auto s = RequireName(); !s.ok()) return s;
  const std::string path = absl::GetFlag(FLAGS_file);
  if (path.empty()) return UsageError("--file is required");
  auto bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();

  v1::UploadChunk first;
  v1::UploadHeader* header = first.mutable_header();
  header->set_name(absl::GetFlag(FLAGS_name));
  header->set_total_bytes(bytes->size());
  header->set_sha256(Sha256Hex(*bytes));
  header->set_label(absl::GetFlag(FLAGS_label));
  header->set_threshold(absl::GetFlag(FLAGS_threshold));
  for (const std::string& p : prompts) header->add_prompts(p);

  auto stub = v1::AdapterAdmin::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  v1::AdapterInfo info;
  auto writer = stub->UploadAdapter(ctx.get(), &info);
  ProgressBar progress((bytes->size() + kChunkBytes - 1) / kChunkBytes, "MiB");
  size_t offset = 0;
  do {  // at least one chunk, even for an empty file
    v1::UploadChunk chunk = offset == 0 ? first : v1::UploadChunk();
    const size_t n = std::min(kChunkBytes, bytes->size() - offset);
    chunk.set_data(bytes->substr(offset, n));
    offset += n;
    chunk.set_last(offset == bytes->size());
    if (!writer->Write(chunk)) break;  // the server ended the call; Finish says why
    progress.Update((offset + kChunkBytes - 1) / kChunkBytes);
  } while (offset < bytes->size());
  progress.Finish();
  writer->WritesDone();
  if (auto s = FromGrpc(writer->Finish()); !s.ok()) return s;
  PrintJsonLine(info);
  return absl::OkStatus();
}

absl::Status RunList(const Connection& connection) {
  auto stub = v1::AdapterAdmin::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  v1::ListAdaptersRequest request;
  request.set_name(absl::GetFlag(FLAGS_name));
  v1::ListAdaptersResponse response;
  if (auto s = FromGrpc(stub->ListAdapters(ctx.get(), request, &response)); !s.ok()) return s;
  for (const v1::AdapterInfo& info : response.adapters()) PrintJsonLine(info);
  return absl::OkStatus();
}

absl::Status RunLabel(const Connection& connection) {
  if (auto s = RequireName(); !s.ok()) return s;
  if (absl::GetFlag(FLAGS_label).empty()) return UsageError("--label is required");
  if (absl::GetFlag(FLAGS_version) == 0) return UsageError("--version is required (>= 1)");
  auto stub = v1::AdapterAdmin::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  v1::SetLabelRequest request;
  request.set_name(absl::GetFlag(FLAGS_name));
  request.set_label(absl::GetFlag(FLAGS_label));
  request.set_version(absl::GetFlag(FLAGS_version));
  v1::AdapterInfo info;
  if (auto s = FromGrpc(stub->SetLabel(ctx.get(), request, &info)); !s.ok()) return s;
  PrintJsonLine(info);
  return absl::OkStatus();
}

absl::Status RunDelete(const Connection& connection) {
  if (auto s = RequireName(); !s.ok()) return s;
  auto stub = v1::AdapterAdmin::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  v1::DeleteAdapterRequest request;
  request.set_name(absl::GetFlag(FLAGS_name));
  request.set_version(absl::GetFlag(FLAGS_version));
  request.set_force(absl::GetFlag(FLAGS_force));
  v1::DeleteAdapterResponse response;
  if (auto s = FromGrpc(stub->DeleteAdapter(ctx.get(), request, &response)); !s.ok()) return s;
  PrintJsonLine(response);
  return absl::OkStatus();
}

absl::Status RunPin(const Connection& connection, bool pinned) {
  if (auto s = RequireName(); !s.ok()) return s;
  const uint64_t version = absl::GetFlag(FLAGS_version);
  const std::string label = absl::GetFlag(FLAGS_label);
  if (version != 0 && !label.empty()) return UsageError("give --version or --label, not both");
  v1::PinAdapterRequest request;
  request.set_task(absl::GetFlag(FLAGS_name));
  if (version != 0) request.set_task(absl::StrCat(request.task(), "@", version));
  if (!label.empty()) request.set_task(absl::StrCat(request.task(), "@", label));
  request.set_pinned(pinned);
  auto stub = v1::AdapterAdmin::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  v1::AdapterInfo info;
  if (auto s = FromGrpc(stub->PinAdapter(ctx.get(), request, &info)); !s.ok()) return s;
  PrintJsonLine(info);
  return absl::OkStatus();
}

}  // namespace vlsm::client
