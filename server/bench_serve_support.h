// Parts of `vlsm-bench serve` (server/bench_serve.cc): the admin client that
// uploads adapter versions of task "bench" and swaps its labels, and the
// in-process run of one request that the gRPC path is compared with.
// Threading: a BenchAdmin is used from one thread at a time; InProcessOnce
// from any thread (the Pipeline is thread-safe). Errors: gRPC / absl status.
#ifndef VLSM_SERVER_BENCH_SERVE_SUPPORT_H_
#define VLSM_SERVER_BENCH_SERVE_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "model/pipeline.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {

class BenchAdmin {
 public:
  BenchAdmin(std::shared_ptr<grpc::Channel> channel, std::string token)
      : stub_(v1::AdapterAdmin::NewStub(channel)), token_(std::move(token)) {}

  // Uploads `bytes` as a new version of "bench" (with `label` if set).
  grpc::Status Upload(const std::string& bytes, const std::string& label, uint64_t* version);
  grpc::Status SetLabel(const std::string& label, uint64_t version);

 private:
  void Auth(grpc::ClientContext* ctx) const;
  std::unique_ptr<v1::AdapterAdmin::Stub> stub_;
  std::string token_;
};

// The request's work done in process, timed: the whole pipeline (decode,
// preprocess, tokenize, engine, mask, PNG) and the engine call alone.
absl::Status InProcessOnce(const Pipeline& pipeline, const std::string& image,
                           const std::string& prompt_text, double* pipeline_ms, double* engine_ms);

}  // namespace vlsm

#endif  // VLSM_SERVER_BENCH_SERVE_SUPPORT_H_
