// Segments the slices of one series through vlsm-server's SegmentStream:
// one request per slice (the Part 10 bytes, the route's task, prompts and
// threshold, RLE masks at the original size), at most `max_in_flight`
// requests outstanding, masks decoded back to rows x cols bytes.
//
// Ownership: the segmenter owns its channel; Segment reads `slices` during
// the call only.
// Threading: Segment may be called from several threads (one stream each).
// Errors: the gRPC status of the stream (UNAVAILABLE while the service is
// down, DEADLINE_EXCEEDED past --rpc_deadline; callers retry those);
// Internal for a response that does not fit the request (unknown request id,
// wrong mask size, a prompt missing for a slice, undecodable RLE).
#ifndef VLSM_CLIENT_PACS_SEGMENTER_H_
#define VLSM_CLIENT_PACS_SEGMENTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/pacs_routing.h"

namespace vlsm::pacs {

struct SliceInput {
  absl::string_view part10;  // the instance's bytes
  long rows = 0;
  long cols = 0;
};

struct PromptMasks {
  std::string prompt;
  std::vector<std::vector<uint8_t>> frames;  // per slice, rows*cols, 0/1
};

struct SeriesMasks {
  std::vector<PromptMasks> prompts;  // by prompt index
  std::string task;                  // adapter that answered ("" = base model)
  uint64_t adapter_version = 0;
};

class SliceSegmenter {
 public:
  virtual ~SliceSegmenter() = default;
  virtual absl::StatusOr<SeriesMasks> Segment(const std::vector<SliceInput>& slices,
                                              const Route& route) = 0;
  // Ends running Segment calls with CANCELLED and makes later ones fail the
  // same way (shutdown). Thread-safe.
  virtual void Cancel() {}
};

struct GrpcSegmenterOptions {
  std::string target;  // host:port of vlsm-server
  std::string tls_ca;  // PEM paths; empty tls_ca = plaintext
  std::string tls_cert;
  std::string tls_key;
  std::string token;  // bearer token, optional
  int max_in_flight = 4;
  absl::Duration deadline = absl::Minutes(5);  // per series stream
};

absl::StatusOr<std::unique_ptr<SliceSegmenter>> MakeGrpcSegmenter(
    const GrpcSegmenterOptions& options);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SEGMENTER_H_
