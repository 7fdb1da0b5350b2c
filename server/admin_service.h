// vlsm.v1.AdapterAdmin on gRPC's callback API.
//
// UploadAdapter: a ServerReadReactor; the first chunk carries the header
// (name, total_bytes <= max_adapter_bytes, sha256); chunks are accumulated
// (never beyond total_bytes), the size and sha256 verified, and the
// registry's Add (parse, probe, persist, publish) runs on the WorkerPool.
// ListAdapters and GetAdapter read a registry snapshot inline; SetLabel,
// DeleteAdapter and PinAdapter write to disk and so run on the pool.
// Every RPC first passes AdminAuth.
//
// Ownership: borrows the registry, pool, auth and metrics, which must
// outlive the gRPC server. Threading: reactors never block; each deletes
// itself in OnDone. Errors: InvalidArgument (bad header, size or sha256
// mismatch, bad adapter file), NotFound, FailedPrecondition (wrong base
// model, delete refused while labelled), Unauthenticated / PermissionDenied,
// all through ToGrpcStatus. A failed upload changes nothing.
#ifndef VLSM_SERVER_ADMIN_SERVICE_H_
#define VLSM_SERVER_ADMIN_SERVICE_H_

#include <cstdint>

#include "server/adapter_registry.h"
#include "server/admin_auth.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {

// The wire form of a registered version (`residency`: AdapterRegistry::ResidencyOf).
v1::AdapterInfo ToAdapterInfo(const AdapterVersion& version, const AdapterSnapshot& snapshot,
                              AdapterResidency::State residency);

class AdminServiceImpl final : public v1::AdapterAdmin::CallbackService {
 public:
  AdminServiceImpl(AdapterRegistry* registry, WorkerPool* pool, const AdminAuth* auth,
                   ServerMetrics* metrics, uint64_t max_adapter_bytes)
      : registry_(registry),
        pool_(pool),
        auth_(auth),
        metrics_(metrics),
        max_adapter_bytes_(max_adapter_bytes) {}

  grpc::ServerReadReactor<v1::UploadChunk>* UploadAdapter(grpc::CallbackServerContext* context,
                                                          v1::AdapterInfo* response) override;
  grpc::ServerUnaryReactor* ListAdapters(grpc::CallbackServerContext* context,
                                         const v1::ListAdaptersRequest* request,
                                         v1::ListAdaptersResponse* response) override;
  grpc::ServerUnaryReactor* GetAdapter(grpc::CallbackServerContext* context,
                                       const v1::GetAdapterRequest* request,
                                       v1::AdapterInfo* response) override;
  grpc::ServerUnaryReactor* SetLabel(grpc::CallbackServerContext* context,
                                     const v1::SetLabelRequest* request,
                                     v1::AdapterInfo* response) override;
  grpc::ServerUnaryReactor* DeleteAdapter(grpc::CallbackServerContext* context,
                                          const v1::DeleteAdapterRequest* request,
                                          v1::DeleteAdapterResponse* response) override;
  grpc::ServerUnaryReactor* PinAdapter(grpc::CallbackServerContext* context,
                                       const v1::PinAdapterRequest* request,
                                       v1::AdapterInfo* response) override;

 private:
  v1::AdapterInfo Info(const AdapterVersion& version, const AdapterSnapshot& snapshot) const {
    return ToAdapterInfo(version, snapshot, registry_->ResidencyOf(version));
  }
  // Finishes a unary call, recording it.
  void Finish(grpc::ServerUnaryReactor* reactor, const char* rpc, const absl::Status& status);

  AdapterRegistry* registry_;
  WorkerPool* pool_;
  const AdminAuth* auth_;
  ServerMetrics* metrics_;
  const uint64_t max_adapter_bytes_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_ADMIN_SERVICE_H_
