// A loaded VLSM-Adapter weight set: immutable, shared between requests via
// shared_ptr<const Adapter>; built and validated by Engine::LoadAdapter /
// Engine::ParseAdapter against the engine's base model, off the request path.
//
// File format: safetensors with vlsm-adapter's tensor names (see README) and
// string metadata in `__metadata__`:
//   format "vlsm-adapter/1", variant ("shallow_vlc", ...), class, adapter_dim,
//   cond_adapter_dim, adapter_in_v/l/cond ("true"/"false"), task, prompts (a
//   JSON array of strings), threshold, base_model, base_fingerprint
//   ("sha256:..." per model/fingerprint.h), source.
// All keys are optional: the variant, targets and dims are inferred from the
// tensor names and shapes, and metadata that contradicts them is an error.
// Threading: immutable; safe to share across threads.
#ifndef VLSM_MODEL_ADAPTER_H_
#define VLSM_MODEL_ADAPTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vlsm {

struct AdapterWeights;

struct AdapterSpec {
  bool dense = false;  // dense (in the encoder layers) or shallow (on extracted states)
  bool vision = false, text = false, cond = false;  // targets V, L, C
  int64_t adapter_dim = 0;                          // of the vision adapters
  int64_t cond_adapter_dim = 0;                     // 0 without C

  std::string targets() const;  // "V", "VL", "VLC"
  std::string variant() const;  // "shallow_vlc", "dense_v", ...
};

struct AdapterMetadata {
  std::string task;
  std::vector<std::string> prompts;
  float threshold = 0.5f;
  std::string base_model;
  std::string base_fingerprint;  // empty when the file does not say
  std::string source;
  std::map<std::string, std::string> raw;  // every __metadata__ entry as stored
};

class Adapter {
 public:
  Adapter(AdapterSpec spec, AdapterMetadata metadata, std::unique_ptr<AdapterWeights> weights,
          int64_t num_parameters, int64_t bytes);
  ~Adapter();
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  const AdapterSpec& spec() const { return spec_; }
  const AdapterMetadata& metadata() const { return metadata_; }
  int64_t num_parameters() const { return num_parameters_; }
  int64_t bytes() const { return bytes_; }  // resident size of the weights
  // Unique per Adapter object in this process (cache keys).
  uint64_t uid() const { return uid_; }
  // model/ internal.
  const AdapterWeights& weights() const { return *weights_; }

 private:
  AdapterSpec spec_;
  AdapterMetadata metadata_;
  std::unique_ptr<AdapterWeights> weights_;
  int64_t num_parameters_;
  int64_t bytes_;
  uint64_t uid_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_ADAPTER_H_
