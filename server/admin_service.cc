#include "server/admin_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/status_util.h"
#include "server/upload_reactor.h"

namespace vlsm {

v1::AdapterInfo ToAdapterInfo(const AdapterVersion& version, const AdapterSnapshot& snapshot,
                              AdapterResidency::State residency) {
  v1::AdapterInfo info;
  info.set_name(version.name);
  info.set_version(version.version);
  if (version.adapter != nullptr) {
    const Adapter& a = *version.adapter;
    info.set_variant(a.spec().variant());
    info.set_adapter_dim(a.spec().adapter_dim);
    info.set_num_parameters(a.num_parameters());
    info.set_bytes(a.bytes());
    info.set_base_fingerprint(a.metadata().base_fingerprint);
  }
  info.set_sha256(version.sha256);
  for (const std::string& p : version.prompts) info.add_prompts(p);
  info.set_threshold(version.threshold);
  for (const std::string& l : snapshot.LabelsOf(version.name, version.version)) info.add_labels(l);
  info.set_created_unix_ms(version.created_unix_ms);
  info.set_resident(residency.resident);
  info.set_pinned(residency.pinned);
  for (const auto& [k, v] : version.metadata) (*info.mutable_metadata())[k] = v;
  return info;
}

void AdminServiceImpl::Finish(grpc::ServerUnaryReactor* reactor, const char* rpc,
                              const absl::Status& status) {
  metrics_->RecordRequest(rpc, status.code(), "");
  reactor->Finish(ToGrpcStatus(status));
}

grpc::ServerReadReactor<v1::UploadChunk>* AdminServiceImpl::UploadAdapter(
    grpc::CallbackServerContext* context, v1::AdapterInfo* response) {
  return new UploadReactor(registry_, pool_, metrics_, auth_->Check(*context), max_adapter_bytes_,
                           response);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListAdapters(grpc::CallbackServerContext* context,
                                                         const v1::ListAdaptersRequest* request,
                                                         v1::ListAdaptersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = auth_->Check(*context); !s.ok()) {
    Finish(reactor, "ListAdapters", s);
    return reactor;
  }
  const auto snapshot = registry_->snapshot();
  for (const auto& [name, versions] : snapshot->tasks) {
    if (!request->name().empty() && request->name() != name) continue;
    for (const auto& [number, version] : versions) {
      *response->add_adapters() = Info(*version, *snapshot);
    }
  }
  Finish(reactor, "ListAdapters", absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetAdapter(grpc::CallbackServerContext* context,
                                                       const v1::GetAdapterRequest* request,
                                                       v1::AdapterInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = auth_->Check(*context);
  if (status.ok()) {
    const auto snapshot = registry_->snapshot();
    auto version = registry_->Resolve(request->task());
    status = version.status();
    if (version.ok()) *response = Info(**version, *snapshot);
  }
  Finish(reactor, "GetAdapter", status);
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::SetLabel(grpc::CallbackServerContext* context,
                                                     const v1::SetLabelRequest* request,
                                                     v1::AdapterInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = auth_->Check(*context); !s.ok()) {
    Finish(reactor, "SetLabel", s);
    return reactor;
  }
  // `request` and `response` live until the reactor finishes.
  pool_->Schedule([this, reactor, request, response] {
    absl::Status s = registry_->SetLabel(request->name(), request->label(), request->version());
    if (s.ok()) {
      auto version = registry_->Resolve(absl::StrCat(request->name(), "@", request->version()));
      s = version.status();
      if (version.ok()) *response = Info(**version, *registry_->snapshot());
    }
    Finish(reactor, "SetLabel", s);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteAdapter(grpc::CallbackServerContext* context,
                                                          const v1::DeleteAdapterRequest* request,
                                                          v1::DeleteAdapterResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = auth_->Check(*context); !s.ok()) {
    Finish(reactor, "DeleteAdapter", s);
    return reactor;
  }
  pool_->Schedule([this, reactor, request, response] {
    auto deleted = registry_->Delete(request->name(), request->version(), request->force());
    if (deleted.ok()) {
      for (uint64_t v : *deleted) response->add_deleted_versions(v);
    }
    Finish(reactor, "DeleteAdapter", deleted.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::PinAdapter(grpc::CallbackServerContext* context,
                                                       const v1::PinAdapterRequest* request,
                                                       v1::AdapterInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = auth_->Check(*context); !s.ok()) {
    Finish(reactor, "PinAdapter", s);
    return reactor;
  }
  // Pinning may copy weights to the device and writes the index: the pool.
  pool_->Schedule([this, reactor, request, response] {
    auto version = registry_->Resolve(request->task());
    absl::Status s = version.status();
    if (s.ok()) s = registry_->SetPinned((*version)->name, (*version)->version, request->pinned());
    if (s.ok()) *response = Info(**version, *registry_->snapshot());
    Finish(reactor, "PinAdapter", s);
  });
  return reactor;
}

}  // namespace vlsm
