#include "model/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/dataset.h"
#include "model/fingerprint.h"
#include "model/pipeline.h"
#include "model/safetensors.h"
#include "model/torch_util.h"
#include "model/train_adapter.h"
#include "model/train_eval.h"
#include "model/train_loss.h"
#include "model/train_model.h"
#include "model/train_tokenizer.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Token ids of prompts (BOS .. first EOS), from the tokenizer the model serves with.
class PromptIds {
 public:
  PromptIds(const Tokenizer& tokenizer, int64_t eos_id) : tokenizer_(tokenizer), eos_(eos_id) {}

  absl::StatusOr<std::vector<int64_t>> Get(const std::string& prompt) {
    auto it = cache_.find(prompt);
    if (it != cache_.end()) return it->second;
    auto encoded = tokenizer_.Encode(prompt);
    if (!encoded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompt '", prompt, "': ", encoded.status().message()));
    }
    std::vector<int64_t> ids = encoded->input_ids;
    auto end = std::find(ids.begin(), ids.end(), eos_);
    if (end != ids.end()) ids.erase(end + 1, ids.end());
    return cache_[prompt] = ids;
  }

 private:
  const Tokenizer& tokenizer_;
  int64_t eos_;
  std::map<std::string, std::vector<int64_t>> cache_;
};

struct Batch {
  torch::Tensor pixels, ids, target;
};

absl::StatusOr<Batch> MakeBatch(const SegDataset& ds, const std::vector<size_t>& rows,
                                const std::vector<std::string>& prompts, PromptIds& ids,
                                int64_t pad_id, const torch::Device& device) {
  std::vector<torch::Tensor> pixels, targets;
  std::vector<std::vector<int64_t>> tokens;
  size_t len = 0;
  const int64_t s = ds.image_size();
  for (size_t j = 0; j < rows.size(); ++j) {
    const SegSample& sample = ds.sample(rows[j]);
    pixels.push_back(torch::from_blob(const_cast<float*>(sample.pixels.data.data()),
                                      sample.pixels.shape, torch::kFloat));
    targets.push_back(
        torch::from_blob(const_cast<float*>(sample.mask.data()), {s, s}, torch::kFloat));
    auto t = ids.Get(prompts[j]);
    if (!t.ok()) return t.status();
    len = std::max(len, t->size());
    tokens.push_back(*std::move(t));
  }
  auto id_tensor = torch::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(len)},
                               pad_id, torch::kLong);
  for (size_t j = 0; j < tokens.size(); ++j) {
    id_tensor[j]
        .narrow(0, 0, static_cast<int64_t>(tokens[j].size()))
        .copy_(torch::tensor(tokens[j], torch::kLong));
  }
  return Batch{torch::stack(pixels).to(device), id_tensor.to(device),
               torch::stack(targets).to(device)};
}

std::string DefaultMetricsPath(std::string out) {
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (absl::EndsWith(out, ".safetensors")) out.resize(out.size() - 12);
  return out + ".metrics.json";
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, text);
}

std::string PreprocessorJson(int64_t size) {
  nlohmann::json j = {{"do_normalize", true},
                      {"do_rescale", true},
                      {"do_resize", true},
                      {"image_processor_type", "ViTImageProcessor"},
                      {"image_mean", {0.485, 0.456, 0.406}},
                      {"image_std", {0.229, 0.224, 0.225}},
                      {"resample", 2},
                      {"rescale_factor", 1 / 255.0},
                      {"size", {{"height", size}, {"width", size}}}};
  return j.dump(2) + "\n";
}

// Tokenizer and preprocessor files a full fine-tune carries over.
void CopyModelSideFiles(const std::string& from, const std::string& to) {
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json",
                        "special_tokens_map.json", "tokenizer.json", "bpe_simple_vocab_16e6.txt.gz",
                        "spiece.model", "tokenizer.model", "preprocessor_config.json"}) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(from) / f, ec)) {
      fs::copy_file(fs::path(from) / f, fs::path(to) / f, fs::copy_options::overwrite_existing, ec);
    }
  }
}

absl::Status WriteMetrics(const TrainReport& r, const TrainOptions& o) {
  nlohmann::json j = {
      {"mode", r.mode},
      {"variant", r.variant},
      {"trainable_params", r.trainable_params},
      {"test", {{"dice", r.test.dice}, {"iou", r.test.iou}, {"images", r.test.images}}},
      {"val_best_dice", r.val_best_dice},
      {"epochs", r.epochs},
      {"steps", r.steps},
      {"train_seconds", r.train_seconds},
      {"loss_first", r.loss_first},
      {"loss_last", r.loss_last},
      {"threshold", o.threshold},
      {"time_limit_s", o.time_limit_s},
      {"seed", o.seed},
      {"device", o.device},
      {"task", o.task},
      {"data", o.data_dir},
      {"out", o.out},
  };
  if (o.mode == "adapter") j["adapter_dim"] = o.adapter_dim;
  return WriteText(r.metrics_path, j.dump(2) + "\n");
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError("CUDA requested but this LibTorch/machine has none");
    }
    if (!d.is_cpu() && !d.is_cuda())
      return absl::InvalidArgumentError("device must be cpu or cuda");
    return d;
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("bad device '", name, "'"));
  }
}

absl::Status Validate(const TrainOptions& o) {
  if (o.mode != "adapter" && o.mode != "full" && o.mode != "scratch" && o.mode != "eval") {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode must be adapter, full, scratch or eval, got '", o.mode, "'"));
  }
  if (o.data_dir.empty()) return absl::InvalidArgumentError("--data is required");
  if (o.mode == "scratch" ? o.config_path.empty() : o.model_dir.empty()) {
    return absl::InvalidArgumentError(o.mode == "scratch" ? "--config is required for scratch"
                                                          : "--model is required");
  }
  if (o.mode != "eval" && o.out.empty()) return absl::InvalidArgumentError("--out is required");
  if (o.mode == "eval" && o.out.empty() && o.metrics_out.empty()) {
    return absl::InvalidArgumentError("--mode eval needs --metrics_out (or --out)");
  }
  if (o.batch_size < 1 || o.epochs < 1 || o.max_steps < 0) {
    return absl::InvalidArgumentError("--batch_size and --epochs must be >= 1, --max_steps >= 0");
  }
  if (!(o.threshold > 0 && o.threshold < 1)) {
    return absl::InvalidArgumentError("--threshold must be in (0, 1)");
  }
  if (o.lr < 0) return absl::InvalidArgumentError("--lr must be positive");
  return absl::OkStatus();
}

absl::StatusOr<TrainReport> RunEval(const TrainOptions& o) {
  TrainReport r;
  r.mode = "eval";
  r.variant = "base";
  if (!o.adapter_path.empty()) {
    auto file = SafetensorsFile::Open(o.adapter_path);
    if (!file.ok()) return file.status();
    auto it = (*file)->metadata().find("variant");
    r.variant = it == (*file)->metadata().end() ? "adapter" : it->second;
  }
  auto scores = EvaluateModel(o.model_dir, o.adapter_path, o.data_dir, "test", o.device, o.threads,
                              o.batch_size, o.threshold);
  if (!scores.ok()) return scores.status();
  r.test = *scores;
  r.metrics_path = o.metrics_out.empty() ? DefaultMetricsPath(o.out) : o.metrics_out;
  if (auto s = WriteMetrics(r, o); !s.ok()) return s;
  return r;
}

// Everything a training run holds.
struct Run {
  TrainOptions o;
  torch::Device device = torch::kCPU;
  ClipSegConfig config;
  std::unique_ptr<Tokenizer> tokenizer;
  PreprocessConfig preprocess;
  std::unique_ptr<SegDataset> train, val;
  std::unique_ptr<TrainModel> model;
  std::unique_ptr<TrainAdapter> adapter;
  std::string base_fingerprint;
  int64_t pad_id = 0;
};

absl::Status Prepare(Run& run) {
  const TrainOptions& o = run.o;
  if (o.mode == "scratch") {
    auto config = LoadClipSegConfig(o.config_path);
    if (!config.ok()) return config.status();
    run.config = *config;
    run.preprocess.height = run.preprocess.width = run.config.vision.image_size;
    auto train = SegDataset::Open(o.data_dir, "train", run.preprocess);
    if (!train.ok()) return train.status();
    run.train = *std::move(train);
    auto tok = TrainPromptTokenizer(run.train->AllPrompts(), o.vocab_size, o.out);
    if (!tok.ok()) return tok.status();
    run.config.text.vocab_size = tok->vocab_size;
    run.config.text.bos_token_id = tok->bos_id;
    run.config.text.eos_token_id = tok->eos_id;
    run.config.text.pad_token_id = tok->pad_id;
    if (auto s = WriteText(o.out + "/preprocessor_config.json",
                           PreprocessorJson(run.config.vision.image_size));
        !s.ok()) {
      return s;
    }
    auto tokenizer = LoadTokenizer(o.out, run.config.text.max_position_embeddings);
    if (!tokenizer.ok()) return tokenizer.status();
    run.tokenizer = *std::move(tokenizer);
    auto model = TrainModel::Init(run.config, o.seed, run.device);
    if (!model.ok()) return model.status();
    run.model = *std::move(model);
  } else {
    auto model = TrainModel::Load(o.model_dir, run.device, o.mode == "full");
    if (!model.ok()) return model.status();
    run.model = *std::move(model);
    run.config = run.model->config();
    auto tokenizer = LoadTokenizer(o.model_dir, run.config.text.max_position_embeddings);
    if (!tokenizer.ok()) return tokenizer.status();
    run.tokenizer = *std::move(tokenizer);
    auto preprocess = LoadPreprocessConfig(o.model_dir);
    if (!preprocess.ok()) return preprocess.status();
    run.preprocess = *preprocess;
    auto train = SegDataset::Open(o.data_dir, "train", run.preprocess);
    if (!train.ok()) return train.status();
    run.train = *std::move(train);
    if (o.mode == "full") {
      std::error_code ec;
      fs::create_directories(o.out, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot create ", o.out, ": ", ec.message()));
      CopyModelSideFiles(o.model_dir, o.out);
    }
  }
  if (run.preprocess.height % run.config.vision.patch_size != 0) {
    return absl::InvalidArgumentError("the model input size must be a multiple of the patch size");
  }
  auto val = SegDataset::Open(o.data_dir, "val", run.preprocess);
  if (!val.ok()) return val.status();
  run.val = *std::move(val);
  const int64_t eos = run.config.text.eos_token_id;
  run.pad_id = eos == 2 ? 0 : eos;
  if (o.mode == "adapter") {
    auto spec = ParseAdapterVariant(o.variant, o.adapter_dim);
    if (!spec.ok()) return spec.status();
    auto adapter = TrainAdapter::Init(*spec, run.config, o.seed, run.device);
    if (!adapter.ok()) return adapter.status();
    run.adapter = *std::move(adapter);
    auto file = SafetensorsFile::Open(o.model_dir + "/model.safetensors");
    if (!file.ok()) return file.status();
    run.base_fingerprint = WeightsFingerprint((*file)->tensors());
  }
  return absl::OkStatus();
}

absl::Status SaveCheckpoint(const Run& run) {
  const TrainOptions& o = run.o;
  if (run.adapter) {
    AdapterFileInfo info;
    info.task = o.task;
    for (const std::string& p : run.train->AllPrompts()) {
      if (info.prompts.size() >= 8) break;
      info.prompts.push_back(p);
    }
    info.threshold = o.threshold;
    info.base_model = fs::path(o.model_dir).lexically_normal().filename().string();
    if (info.base_model.empty()) {
      info.base_model = fs::path(o.model_dir).lexically_normal().parent_path().filename().string();
    }
    info.base_fingerprint = run.base_fingerprint;
    auto bytes = run.adapter->Serialize(info);
    if (!bytes.ok()) return bytes.status();
    std::error_code ec;
    const fs::path parent = fs::path(o.out).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    return WriteFileAtomically(o.out, *bytes);
  }
  return run.model->Save(o.out);
}

// Mean validation Dice of the current weights (in-memory forward, no grad).
absl::StatusOr<double> ValidationDice(const Run& run, PromptIds& ids) {
  torch::NoGradGuard no_grad;
  auto view = run.model->View();
  if (!view.ok()) return view.status();
  const AdapterWeights* a = run.adapter ? &run.adapter->weights() : nullptr;
  ScoreAccumulator acc(run.o.threshold);
  for (size_t start = 0; start < run.val->size(); start += run.o.batch_size) {
    std::vector<size_t> rows;
    std::vector<std::string> prompts;
    for (size_t i = start; i < std::min(run.val->size(), start + run.o.batch_size); ++i) {
      rows.push_back(i);
      prompts.push_back(run.val->EvalPrompt(i));
    }
    auto batch = MakeBatch(*run.val, rows, prompts, ids, run.pad_id, run.device);
    if (!batch.ok()) return batch.status();
    acc.Add(SegmentForward(**view, a, batch->pixels, batch->ids), batch->target);
  }
  return acc.dice();
}

absl::StatusOr<TrainReport> RunTraining(const TrainOptions& options, const ProgressFn& progress) {
  Run run;
  run.o = options;
  TrainOptions& o = run.o;
  if (o.task.empty()) o.task = fs::path(o.data_dir).lexically_normal().filename().string();
  auto device = ParseDevice(o.device);
  if (!device.ok()) return device.status();
  run.device = *device;
  // Before the first product: results depend on the thread counts, and the
  // engines this run loads would otherwise change BLAS's midway.
  SetCpuThreads(o.threads);
  torch::manual_seed(o.seed);
  if (auto s = Prepare(run); !s.ok()) return s;

  const bool dense = run.adapter && run.adapter->spec().dense;
  double lr = o.lr > 0 ? o.lr : (run.adapter && !dense ? 3e-4 : 1e-3);
  if (o.lr <= 0 && o.mode == "full") lr = 1e-4;
  std::vector<torch::Tensor> params =
      run.adapter ? run.adapter->parameters() : run.model->parameters();
  torch::optim::AdamW optimizer(params,
                                torch::optim::AdamWOptions(lr).weight_decay(o.weight_decay));

  TrainReport report;
  report.mode = o.mode;
  report.variant = run.adapter ? run.adapter->spec().variant() : o.mode;
  report.trainable_params =
      run.adapter ? run.adapter->num_parameters() : run.model->num_parameters();
  report.val_best_dice = -1;

  PromptIds ids(*run.tokenizer, run.config.text.eos_token_id);
  std::mt19937_64 rng(o.seed);
  std::vector<size_t> order(run.train->size());
  std::iota(order.begin(), order.end(), 0);
  const int64_t steps_per_epoch =
      (static_cast<int64_t>(order.size()) + o.batch_size - 1) / o.batch_size;
  // The frozen base needs one view; trained bases a fresh one per step.
  std::unique_ptr<ClipSegModel> frozen_view;
  if (run.adapter) {
    auto v = run.model->View();
    if (!v.ok()) return v.status();
    frozen_view = *std::move(v);
  }
  const AdapterWeights* adapter_weights = run.adapter ? &run.adapter->weights() : nullptr;

  const auto start = Clock::now();
  const auto elapsed_s = [&] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  // A progress record as of now (step count and learning rate included).
  const auto Progress = [&](int epoch, double loss) {
    TrainProgress p;
    p.epoch = epoch;
    p.epochs = o.epochs;
    p.step = report.steps;
    p.steps_per_epoch = steps_per_epoch;
    p.max_steps = o.max_steps;
    p.loss = loss;
    p.lr = lr;
    p.elapsed_s = elapsed_s();
    return p;
  };
  int since_best = 0, since_plateau_check = 0;
  bool stop = false;
  for (int epoch = 1; epoch <= o.epochs && !stop; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int64_t loss_count = 0;
    for (int64_t b = 0; b < steps_per_epoch; ++b) {
      std::vector<size_t> rows;
      std::vector<std::string> prompts;
      for (size_t i = b * o.batch_size; i < std::min(order.size(), (b + 1) * size_t(o.batch_size));
           ++i) {
        rows.push_back(order[i]);
        prompts.push_back(run.train->RandomPrompt(order[i], rng));
      }
      auto batch = MakeBatch(*run.train, rows, prompts, ids, run.pad_id, run.device);
      if (!batch.ok()) return batch.status();
      std::unique_ptr<ClipSegModel> step_view;
      if (!frozen_view) {
        auto v = run.model->View();
        if (!v.ok()) return v.status();
        step_view = *std::move(v);
      }
      const ClipSegModel& model = frozen_view ? *frozen_view : *step_view;
      optimizer.zero_grad();
      auto logits = SegmentForward(model, adapter_weights, batch->pixels, batch->ids);
      auto loss = DiceCeLoss(logits, batch->target);
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, o.grad_clip);
      optimizer.step();
      const double l = loss.item<double>();
      if (!std::isfinite(l)) {
        return absl::InternalError(absl::StrCat("the loss diverged at step ", report.steps + 1));
      }
      loss_sum += l;
      ++loss_count;
      ++report.steps;
      if (progress) progress(Progress(epoch, l));
      if ((o.max_steps > 0 && report.steps >= o.max_steps) ||
          (o.time_limit_s > 0 && elapsed_s() >= o.time_limit_s)) {
        stop = true;
        break;
      }
    }
    const double epoch_loss = loss_sum / std::max<int64_t>(1, loss_count);
    if (epoch == 1) report.loss_first = epoch_loss;
    report.loss_last = epoch_loss;
    report.epochs = epoch;

    auto val_dice = ValidationDice(run, ids);
    if (!val_dice.ok()) return val_dice.status();
    bool improved = *val_dice > report.val_best_dice;
    if (improved) {
      report.val_best_dice = *val_dice;
      since_best = 0;
      since_plateau_check = 0;
      if (auto s = SaveCheckpoint(run); !s.ok()) return s;
    } else {
      ++since_best;
      if (++since_plateau_check >= o.plateau_patience) {  // reduce-on-plateau
        lr *= 0.5;
        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        }
        since_plateau_check = 0;
      }
      if (since_best >= o.early_stop_patience) stop = true;
    }
    if (progress) {
      TrainProgress p = Progress(epoch, epoch_loss);
      p.val_dice = *val_dice;
      p.message = absl::StrCat(
          "epoch ", epoch, ": train loss ", epoch_loss, ", val dice ", *val_dice,
          improved ? " (best, saved)" : "",
          stop && !improved && since_best >= o.early_stop_patience ? ", early stop" : "");
      progress(p);
    }
  }
  report.train_seconds = elapsed_s();

  // Test scores of the saved best checkpoint, as served.
  const bool adapter_mode = run.adapter != nullptr;
  run.adapter.reset();
  run.model.reset();
  frozen_view.reset();
  auto test = EvaluateModel(adapter_mode ? o.model_dir : o.out, adapter_mode ? o.out : "",
                            o.data_dir, "test", o.device, o.threads, o.batch_size, o.threshold);
  if (!test.ok()) return test.status();
  report.test = *test;
  report.metrics_path = o.metrics_out.empty() ? DefaultMetricsPath(o.out) : o.metrics_out;
  if (auto s = WriteMetrics(report, o); !s.ok()) return s;
  return report;
}

}  // namespace

absl::StatusOr<TrainReport> RunTrainer(const TrainOptions& options, const ProgressFn& progress) {
  if (auto s = Validate(options); !s.ok()) return s;
  try {
    return options.mode == "eval" ? RunEval(options) : RunTraining(options, progress);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("training failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training failed: ", e.what()));
  }
}

}  // namespace vlsm
