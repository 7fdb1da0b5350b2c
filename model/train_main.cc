// vlsm-train: trains VLSM-Adapter weight sets, fine-tunes or trains CLIPSeg
// models from scratch, and evaluates them (see model/trainer.h).
//
//   vlsm-train --mode adapter --data DATASET --model BASE --variant shallow_vlc
//              --adapter_dim 64 --out polyp.safetensors
//   vlsm-train --mode full    --data DATASET --model BASE --out MODEL_DIR
//   vlsm-train --mode scratch --data DATASET --config arch.json --out MODEL_DIR
//   vlsm-train --mode eval    --data DATASET --model MODEL_DIR [--adapter FILE]
//              --metrics_out metrics.json
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "model/trainer.h"

ABSL_FLAG(std::string, mode, "adapter", "adapter | full | scratch | eval");
ABSL_FLAG(std::string, data, "", "dataset directory (images/, masks/, anns/{train,val,test}.json)");
ABSL_FLAG(std::string, model, "", "base model directory (adapter, full, eval)");
ABSL_FLAG(std::string, adapter, "", "eval: adapter .safetensors to evaluate with the model");
ABSL_FLAG(std::string, config, "", "scratch: architecture as an HF CLIPSeg config.json");
ABSL_FLAG(std::string, variant, "shallow_vlc",
          "shallow_v | shallow_vl | shallow_vlc | dense_v | dense_vl | dense_vlc");
ABSL_FLAG(int64_t, adapter_dim, 64, "adapter bottleneck width");
ABSL_FLAG(int, epochs, 20, "maximum epochs");
ABSL_FLAG(int64_t, max_steps, 0, "stop after this many optimizer steps (0 = no limit)");
ABSL_FLAG(double, time_limit_s, 0,
          "stop training after this many seconds (0 = no limit; the step count then depends on "
          "the machine)");
ABSL_FLAG(int, batch_size, 8, "images per step");
ABSL_FLAG(double, lr, 0,
          "learning rate (0 = 3e-4 for shallow adapters, 1e-3 for dense adapters and scratch, "
          "1e-4 for full)");
ABSL_FLAG(double, weight_decay, 1e-3, "AdamW weight decay");
ABSL_FLAG(int, plateau_patience, 2, "epochs without a better val Dice before lr is halved");
ABSL_FLAG(int, early_stop_patience, 5, "epochs without a better val Dice before stopping");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialisation, shuffling and prompt choice");
ABSL_FLAG(int, threads, 0, "torch intra-op threads (0 = all cores)");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N");
ABSL_FLAG(std::string, task, "", "adapter metadata task name (default: the dataset folder name)");
ABSL_FLAG(double, threshold, 0.5, "mask threshold on sigmoid(logits) (scores, adapter metadata)");
ABSL_FLAG(int, vocab_size, 256, "scratch: SentencePiece vocabulary size (upper bound)");
ABSL_FLAG(std::string, out, "",
          "adapter .safetensors (adapter) or model directory (full, scratch)");
ABSL_FLAG(std::string, metrics_out, "", "metrics.json path (default: OUT.metrics.json)");

namespace {

// A bar on a terminal, plain lines otherwise (logs, CI).
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(::isatty(STDOUT_FILENO) != 0) {}

  void operator()(const vlsm::TrainProgress& p) {
    if (!p.message.empty()) {
      if (tty_) std::printf("\r\033[K");
      std::printf("%s (lr %.3g, %.0f s)\n", p.message.c_str(), p.lr, p.elapsed_s);
      std::fflush(stdout);
      return;
    }
    const int64_t total = p.max_steps > 0
                              ? std::min<int64_t>(p.max_steps, p.steps_per_epoch * p.epochs)
                              : p.steps_per_epoch * p.epochs;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(kWidth * p.step / std::max<int64_t>(1, total));
      std::printf("\r[%s%s] step %lld/%lld epoch %d/%d loss %.4f", std::string(filled, '#').c_str(),
                  std::string(kWidth - filled, '.').c_str(), static_cast<long long>(p.step),
                  static_cast<long long>(total), p.epoch, p.epochs, p.loss);
      std::fflush(stdout);
    } else if (p.step == 1 ||
               p.step % std::max<int64_t>(1, std::min<int64_t>(10, p.steps_per_epoch / 4)) == 0) {
      std::printf("step %lld/%lld epoch %d/%d loss %.4f (%.0f s)\n", static_cast<long long>(p.step),
                  static_cast<long long>(total), p.epoch, p.epochs, p.loss, p.elapsed_s);
      std::fflush(stdout);
    }
  }

 private:
  bool tty_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "vlsm-train --mode adapter|full|scratch|eval --data DATASET_DIR "
      "[--model BASE_DIR | --config ARCH.json] --out PATH [options]");
  absl::ParseCommandLine(argc, argv);
  vlsm::TrainOptions o;
  o.mode = absl::GetFlag(FLAGS_mode);
  o.data_dir = absl::GetFlag(FLAGS_data);
  o.model_dir = absl::GetFlag(FLAGS_model);
  o.adapter_path = absl::GetFlag(FLAGS_adapter);
  o.config_path = absl::GetFlag(FLAGS_config);
  o.variant = absl::GetFlag(FLAGS_variant);
  o.adapter_dim = absl::GetFlag(FLAGS_adapter_dim);
  o.epochs = absl::GetFlag(FLAGS_epochs);
  o.max_steps = absl::GetFlag(FLAGS_max_steps);
  o.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.time_limit_s = absl::GetFlag(FLAGS_time_limit_s);
  o.lr = absl::GetFlag(FLAGS_lr);
  o.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  o.plateau_patience = absl::GetFlag(FLAGS_plateau_patience);
  o.early_stop_patience = absl::GetFlag(FLAGS_early_stop_patience);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.device = absl::GetFlag(FLAGS_device);
  o.task = absl::GetFlag(FLAGS_task);
  o.threshold = static_cast<float>(absl::GetFlag(FLAGS_threshold));
  o.vocab_size = absl::GetFlag(FLAGS_vocab_size);
  o.out = absl::GetFlag(FLAGS_out);
  o.metrics_out = absl::GetFlag(FLAGS_metrics_out);

  ProgressPrinter printer;
  auto report = vlsm::RunTrainer(o, [&](const vlsm::TrainProgress& p) { printer(p); });
  if (!report.ok()) {
    std::cerr << "vlsm-train: " << report.status() << "\n";
    return 1;
  }
  std::printf(
      "%s %s: test dice %.4f iou %.4f (%lld images), val best dice %.4f, %lld steps, %d epochs, "
      "%.1f s, %lld trainable params\nmetrics: %s\n",
      report->mode.c_str(), report->variant.c_str(), report->test.dice, report->test.iou,
      static_cast<long long>(report->test.images), report->val_best_dice,
      static_cast<long long>(report->steps), report->epochs, report->train_seconds,
      static_cast<long long>(report->trainable_params), report->metrics_path.c_str());
  return 0;
}
