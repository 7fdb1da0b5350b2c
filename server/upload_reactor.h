// One AdapterAdmin.UploadAdapter call (see admin_service.h for the
// protocol). Reads chunks one at a time into memory (bounded by the header's
// total_bytes, itself bounded by max_adapter_bytes), verifies size and
// sha256, then runs AdapterRegistry::Add on the WorkerPool and finishes from
// there with the new version's AdapterInfo.
//
// Ownership: borrows the registry, pool and metrics; `response` is gRPC's.
// Deletes itself in OnDone. Threading: reads chain through OnReadDone (one at
// a time); after the last read only the pool job touches the state.
// Errors: the auth status given at construction; InvalidArgument for a
// missing or bad header, too many or too few bytes, or a sha256 mismatch;
// the registry's status for the file itself.
#ifndef VLSM_SERVER_UPLOAD_REACTOR_H_
#define VLSM_SERVER_UPLOAD_REACTOR_H_

#include <grpcpp/support/server_callback.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/adapter_registry.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "vlsm/v1/segmentation.pb.h"

namespace vlsm {

class UploadReactor final : public grpc::ServerReadReactor<v1::UploadChunk> {
 public:
  UploadReactor(AdapterRegistry* registry, WorkerPool* pool, ServerMetrics* metrics,
                const absl::Status& auth, uint64_t max_bytes, v1::AdapterInfo* response);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Checks and appends chunk_; false when the upload failed (and finished).
  bool Take();
  // Verifies the whole file and hands it to the pool.
  void Commit();
  void Done(const absl::Status& status);

  AdapterRegistry* registry_;
  WorkerPool* pool_;
  ServerMetrics* metrics_;
  const uint64_t max_bytes_;
  v1::AdapterInfo* response_;
  v1::UploadChunk chunk_;
  v1::UploadHeader header_;
  bool have_header_ = false;
  std::string data_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_UPLOAD_REACTOR_H_
