// A VLSM-Adapter weight set as torch tensors (internal to model/).
//
// Names follow vlsm-adapter's src/models/clipseg_adapter.py state_dict:
// shallow: vision_extract_adapters.i, text_extract_adapters.i, cond_adapter;
// dense: v_attn_adapters.i, v_out_adapters.i, l_attn_adapters.i,
// l_out_adapters.i, cond_adapter.
// Threading: immutable once built.
#ifndef VLSM_MODEL_ADAPTER_WEIGHTS_H_
#define VLSM_MODEL_ADAPTER_WEIGHTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/adapter.h"
#include "model/clipseg_config.h"
#include "model/layers.h"
#include "model/safetensors.h"

namespace vlsm {

struct AdapterWeights {
  bool dense = false;
  bool vision = false, text = false, cond = false;
  // Shallow.
  std::vector<AdapterMlp> vision_extract, text_extract;
  // Dense.
  std::vector<AdapterMlp> v_attn, v_out, l_attn, l_out;
  AdapterMlp cond_adapter;  // defined when `cond`

  bool changes_vision_encoder() const { return dense && vision; }
  bool changes_text_encoder() const { return dense && text; }
  // Whether the conditional embedding depends on this adapter.
  bool changes_condition() const { return text || cond; }
};

// Parses and validates an adapter file against the base model: unknown or
// missing tensors, shapes that do not fit `config`, non-finite values, and
// metadata contradicting the tensors are InvalidArgument naming the tensor
// (with expected and actual shape); a base fingerprint other than
// `base_fingerprint` is FailedPrecondition. Weights land on `device`.
absl::StatusOr<std::shared_ptr<const Adapter>> BuildAdapter(const SafetensorsFile& file,
                                                            const ClipSegConfig& config,
                                                            const std::string& base_fingerprint,
                                                            const torch::Device& device);

// A copy of `adapter` (same spec, metadata and sizes; a new uid) with its
// weights on `device`; tensors already there are shared, not copied.
std::shared_ptr<const Adapter> CopyAdapterTo(const Adapter& adapter, const torch::Device& device);

}  // namespace vlsm

#endif  // VLSM_MODEL_ADAPTER_WEIGHTS_H_
