// vlsm-train's training and evaluation loops (torch stays in trainer.cc).
//
// Modes (as VLSM-Adapter trains and compares):
//   adapter: a VLSM-Adapter weight set on a frozen base (--model), written as
//            an adapter .safetensors with metadata;
//   full:    every base weight fine-tuned, written as a model directory;
//   scratch: a CLIPSeg-architecture base (--config) from random weights, with
//            a SentencePiece tokenizer trained on the training prompts,
//            written as a model directory;
//   eval:    test-split scores of a model directory (+ optional adapter).
// Training: sigmoid + Dice-CE loss (train_loss.h), AdamW (weight decay 1e-3),
// gradient-norm clipping 0.5, one random prompt per sample per step; after
// every epoch the validation Dice drives reduce-on-plateau (x0.5 after
// `plateau_patience` epochs without improvement) and early stopping (after
// `early_stop_patience`); the best validation checkpoint is what is written.
// Test scores come from reloading that checkpoint through Engine/Pipeline,
// exactly as served (logits at the model's input size, threshold 0.5).
// Deterministic on CPU for a given seed and thread count.
//
// Threading: one run at a time per process (torch's thread count and seed
// are process-wide). Errors: absl::Status, never exceptions; InvalidArgument
// for bad options, NotFound/InvalidArgument from the dataset and model.
#ifndef VLSM_MODEL_TRAINER_H_
#define VLSM_MODEL_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "model/train_eval.h"

namespace vlsm {

struct TrainOptions {
  std::string mode = "adapter";  // adapter | full | scratch | eval
  std::string data_dir;
  std::string model_dir;     // base model (adapter, full, eval)
  std::string adapter_path;  // eval: optional adapter
  std::string config_path;   // scratch: HF-style config.json of the architecture
  std::string variant = "shallow_vlc";
  int64_t adapter_dim = 64;
  int epochs = 20;
  int64_t max_steps = 0;  // 0: no limit
  // Stop (and validate) once training has run this long; 0: no limit. Makes
  // the step count depend on the machine's speed (metrics.json records it).
  double time_limit_s = 0;
  int batch_size = 8;
  double lr = 0;  // 0: 3e-4 (shallow adapters), 1e-3 (dense adapters, full, scratch)
  double weight_decay = 1e-3;
  double grad_clip = 0.5;
  int plateau_patience = 2;
  int early_stop_patience = 5;
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
  std::string device = "cpu";
  std::string task;
  float threshold = 0.5f;
  int vocab_size = 256;     // scratch: upper bound of the SentencePiece vocabulary
  std::string out;          // adapter file or model directory
  std::string metrics_out;  // default: <out>.metrics.json (adapter) or <out>/metrics.json
};

struct TrainReport {
  std::string mode, variant;
  int64_t trainable_params = 0;
  Scores test;
  double val_best_dice = 0;
  int epochs = 0;
  int64_t steps = 0;
  double train_seconds = 0;
  double loss_first = 0;  // mean training loss of the first epoch
  double loss_last = 0;   // mean training loss of the last epoch
  std::string metrics_path;
};

// Progress of one run, reported after every step and every validation.
struct TrainProgress {
  int epoch = 0, epochs = 0;
  int64_t step = 0, steps_per_epoch = 0, max_steps = 0;
  double loss = 0;       // this step's loss
  double val_dice = -1;  // >= 0 right after a validation
  double lr = 0;
  double elapsed_s = 0;  // since training started
  std::string message;   // non-empty: a line worth printing on its own
};
using ProgressFn = std::function<void(const TrainProgress&)>;

// Runs the mode, writes the output and metrics.json, returns what it wrote.
absl::StatusOr<TrainReport> RunTrainer(const TrainOptions& options, const ProgressFn& progress);

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAINER_H_
