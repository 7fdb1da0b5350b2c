// The inference engine: one frozen CLIPSeg base model plus any number of
// VLSM-Adapter weight sets, shaped for a batching server.
//
// A call to Segment() takes a few images and many (image, prompt, adapter)
// queries and returns one logit map per query. Inside, it runs each image's
// vision backbone once per distinct vision path (the frozen base serves the
// base model and every shallow adapter; each dense-V adapter needs its own
// pass, and mixed dense adapters share one batched pass with per-row adapter
// weights gathered into batched matmuls), computes each distinct conditional
// embedding once (an LRU cache keyed by prompt ids, plus the adapter when it
// touches the text path), and decodes all queries as one batch.
//
// Ownership: the Engine owns the base weights (zero-copy views of the mapped
// model.safetensors where the dtype allows). Adapters are shared_ptr<const>,
// so a query keeps the version it started with alive.
// Threading: every const method is safe to call from many threads at once;
// torch's intra-op thread count is process-wide and set by Create.
// Errors: absl::Status only; torch exceptions never leave model/.
#ifndef VLSM_MODEL_ENGINE_H_
#define VLSM_MODEL_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/adapter.h"
#include "model/clipseg_config.h"
#include "model/host_tensor.h"

namespace vlsm {

struct EngineOptions {
  std::string device = "cpu";    // "cpu", "cuda", "cuda:N"
  std::string dtype = "float32";  // "float32"; "bfloat16" (CPU with avx512_bf16, CUDA); "float16" (CUDA)
  int num_threads = 0;            // torch intra-op threads; 0 = all cores
  size_t condition_cache_entries = 4096;
};

struct Prompt {
  // Token ids BOS ... EOS; anything after the first EOS (padding) is ignored.
  std::vector<int64_t> input_ids;
  // Optional, same length as input_ids (1 = attend, 0 = padding).
  std::vector<int64_t> attention_mask;
};

struct SegmentQuery {
  size_t image = 0;  // index into Segment()'s images
  Prompt prompt;
  std::shared_ptr<const Adapter> adapter;  // null = the base model
};

struct SegmentStats {
  double vision_ms = 0, text_ms = 0, decoder_ms = 0, total_ms = 0;
  int vision_rows = 0;    // backbone passes (image x distinct vision path)
  int text_rows = 0;      // text encoder rows computed (cache misses)
  int cache_hits = 0;
};

// Receives named intermediates (parity tests); rows follow first appearance.
using TraceSink = std::function<void(const std::string& name, const HostTensor& value)>;

class Engine {
 public:
  // Loads an HF CLIPSeg directory: config.json + model.safetensors.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const std::string& model_dir,
                                                        const EngineOptions& options);
  // A model of the given architecture with seeded random weights
  // (benchmarks; no download needed).
  static absl::StatusOr<std::unique_ptr<Engine>> CreateRandom(const ClipSegConfig& config,
                                                              uint64_t seed,
                                                              const EngineOptions& options);
  // Writes a loadable model directory (config.json + model.safetensors, F32)
  // with seeded random weights for `config`: the tensors the engine reads,
  // under HF's names (tests of other architectures, memory benchmarks).
  static absl::Status WriteRandomModel(const ClipSegConfig& config, uint64_t seed,
                                       const std::string& dir);
  ~Engine();

  // Parses and validates an adapter against this base model (see adapter.h).
  absl::StatusOr<std::shared_ptr<const Adapter>> LoadAdapter(const std::string& path) const;
  absl::StatusOr<std::shared_ptr<const Adapter>> ParseAdapter(std::string bytes) const;
  // Residency: a copy of `adapter` with its weights on the serving device
  // (to_device) or in host memory. Where they already are, the tensors are
  // shared (on a CPU engine host and device are the same memory). Internal
  // on a failed copy (e.g. device out of memory).
  absl::StatusOr<std::shared_ptr<const Adapter>> CopyAdapter(const Adapter& adapter,
                                                              bool to_device) const;

  // images: [3, S, S] float32, already normalized (S a multiple of the patch
  // size; images may differ in S). Returns logits [S, S] per query, in order.
  // InvalidArgument for bad shapes, token ids or image indices.
  absl::StatusOr<std::vector<HostTensor>> Segment(const std::vector<HostTensor>& images,
                                                  const std::vector<SegmentQuery>& queries,
                                                  SegmentStats* stats = nullptr,
                                                  const TraceSink* trace = nullptr) const;

  const ClipSegConfig& config() const;
  // WeightsFingerprint of the base weights (see fingerprint.h).
  const std::string& fingerprint() const;
  const EngineOptions& options() const;
  size_t condition_cache_size() const;
  uint64_t condition_cache_hits() const;
  uint64_t condition_cache_misses() const;

  struct Impl;  // pimpl: keeps torch out of this header

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_ENGINE_H_
