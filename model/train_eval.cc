#include "model/train_eval.h"

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/dataset.h"
#include "model/pipeline.h"
#include "model/train_loss.h"

namespace vlsm {

namespace {

absl::StatusOr<Scores> Evaluate(const std::string& model_dir, const std::string& adapter_path,
                                const std::string& data_dir, const std::string& split,
                                const std::string& device, int threads, int batch_size,
                                float threshold) {
  EngineOptions options;
  options.device = device;
  options.num_threads = threads;
  auto pipeline = Pipeline::Create(model_dir, options);
  if (!pipeline.ok()) return pipeline.status();
  const Pipeline& p = **pipeline;
  std::shared_ptr<const Adapter> adapter;
  if (!adapter_path.empty()) {
    auto loaded = p.engine().LoadAdapter(adapter_path);
    if (!loaded.ok()) return loaded.status();
    adapter = *std::move(loaded);
  }
  auto ds = SegDataset::Open(data_dir, split, p.preprocess());
  if (!ds.ok()) return ds.status();
  ScoreAccumulator acc(threshold);
  const int64_t s = (*ds)->image_size();
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t start = 0; start < (*ds)->size(); start += step) {
    std::vector<HostTensor> images;
    std::vector<SegmentQuery> queries;
    std::vector<torch::Tensor> targets;
    for (size_t i = start; i < std::min((*ds)->size(), start + step); ++i) {
      const SegSample& sample = (*ds)->sample(i);
      auto prompt = p.EncodePrompt((*ds)->EvalPrompt(i));
      if (!prompt.ok()) return prompt.status();
      queries.push_back({images.size(), *std::move(prompt), adapter});
      images.push_back(sample.pixels);
      targets.push_back(
          torch::from_blob(const_cast<float*>(sample.mask.data()), {s, s}, torch::kFloat));
    }
    auto logits = p.engine().Segment(images, queries);
    if (!logits.ok()) return logits.status();
    std::vector<torch::Tensor> rows;
    for (HostTensor& l : *logits) {
      rows.push_back(torch::from_blob(l.data.data(), l.shape, torch::kFloat));
    }
    acc.Add(torch::stack(rows), torch::stack(targets));
  }
  return Scores{acc.dice(), acc.iou(), acc.count()};
}

}  // namespace

absl::StatusOr<Scores> EvaluateModel(const std::string& model_dir, const std::string& adapter_path,
                                     const std::string& data_dir, const std::string& split,
                                     const std::string& device, int threads, int batch_size,
                                     float threshold) {
  try {
    return Evaluate(model_dir, adapter_path, data_dir, split, device, threads, batch_size,
                    threshold);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("evaluation failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("evaluation failed: ", e.what()));
  }
}

}  // namespace vlsm
