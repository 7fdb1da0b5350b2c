// Scores a model directory (+ an optional adapter) on a dataset split exactly
// as it is served: Pipeline (engine, tokenizer, preprocessing) loaded from the
// files, Engine::Segment logits at the model's input size, sigmoid > threshold,
// per-image Dice and IoU averaged (train_loss.h). Each image is asked with its
// first prompt, so a score is repeatable. vlsm-train's test scores and
// `--mode eval` (torch stays in train_eval.cc).
// Threading: sets torch's process-wide thread count (Engine::Create).
// Errors: absl::Status from loading the model, adapter or dataset.
#ifndef VLSM_MODEL_TRAIN_EVAL_H_
#define VLSM_MODEL_TRAIN_EVAL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace vlsm {

struct Scores {
  double dice = 0, iou = 0;
  int64_t images = 0;
};

absl::StatusOr<Scores> EvaluateModel(const std::string& model_dir, const std::string& adapter_path,
                                     const std::string& data_dir, const std::string& split,
                                     const std::string& device, int threads, int batch_size,
                                     float threshold);

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAIN_EVAL_H_
