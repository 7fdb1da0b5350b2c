// vlsm-infer's subcommands beyond `tensors` (see infer_main.cc for flags).
#ifndef VLSM_MODEL_INFER_COMMANDS_H_
#define VLSM_MODEL_INFER_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace vlsm {

// segment: one mask PNG + one overlay PNG per (input, prompt) under --out.
absl::Status RunSegment(const std::vector<std::string>& prompts,
                        const std::vector<std::string>& inputs);
// tokenize: JSON lines {"text": ...} on stdin -> {"text","input_ids","attention_mask"}.
absl::Status RunTokenize();
// tensors: logits for preprocessed inputs (parity checks).
absl::Status RunTensors();
// decode: writes `image` (H x W x C after rescale, before windowing) and
// `pixel_values` (the model input) of one file.
absl::Status RunDecode(const std::string& input);

}  // namespace vlsm

#endif  // VLSM_MODEL_INFER_COMMANDS_H_
