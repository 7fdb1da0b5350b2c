// vlsm.v1.SegmentationService on gRPC's callback API.
//
// Segment: a ServerWriteReactor that starts the request on the
// SegmentProcessor and streams its responses, one write in flight.
// SegmentStream: see segment_stream_reactor.h.
// Reactors never block: decoding, batching and encoding happen on the
// processor's pool and batcher; each reactor deletes itself in OnDone.
// Cancellation (OnCancel) sets the request's cancelled flag and wakes the
// batcher so its queue slot is freed at once.
//
// Ownership: borrows the processor, registry and metrics, which must outlive
// the gRPC server this service is registered with.
// Errors: every absl::Status is converted once, by ToGrpcStatus.
#ifndef VLSM_SERVER_SEGMENTATION_SERVICE_H_
#define VLSM_SERVER_SEGMENTATION_SERVICE_H_

#include "server/adapter_registry.h"
#include "server/metrics.h"
#include "server/segment_processor.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

namespace vlsm {

class SegmentationServiceImpl final : public v1::SegmentationService::CallbackService {
 public:
  struct Options {
    int stream_max_in_flight = 8;  // requests admitted per SegmentStream
  };

  SegmentationServiceImpl(const SegmentProcessor* processor, const AdapterRegistry* registry,
                          ServerMetrics* metrics, Options options)
      : processor_(processor), registry_(registry), metrics_(metrics), options_(options) {}

  grpc::ServerWriteReactor<v1::SegmentResponse>* Segment(
      grpc::CallbackServerContext* context, const v1::SegmentRequest* request) override;
  grpc::ServerBidiReactor<v1::SegmentRequest, v1::SegmentResponse>* SegmentStream(
      grpc::CallbackServerContext* context) override;

 private:
  const SegmentProcessor* processor_;
  const AdapterRegistry* registry_;
  ServerMetrics* metrics_;
  const Options options_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_SEGMENTATION_SERVICE_H_
