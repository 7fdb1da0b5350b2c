#include "model/train_loss.h"

#include <cmath>

namespace vlsm {

torch::Tensor DiceCeLoss(const torch::Tensor& logits, const torch::Tensor& target,
                         const DiceCeWeights& weights) {
  constexpr double kSmooth = 1e-5;  // MONAI's smooth_nr = smooth_dr
  auto p = torch::sigmoid(logits).flatten(1);
  auto t = target.to(logits.scalar_type()).flatten(1);
  auto intersection = (p * t).sum(1);
  auto dice = 1 - (2 * intersection + kSmooth) / (p.sum(1) + t.sum(1) + kSmooth);
  auto bce = torch::binary_cross_entropy_with_logits(logits.flatten(1), t);
  return weights.dice * dice.mean() + weights.ce * bce;
}

void ScoreAccumulator::Add(const torch::Tensor& logits, const torch::Tensor& target) {
  const double logit_threshold = std::log(threshold_ / (1 - threshold_));
  auto pred = logits.detach().to(torch::kCPU).flatten(1).gt(logit_threshold);
  auto t = target.detach().to(torch::kCPU).flatten(1).gt(0.5);
  auto inter = (pred & t).sum(1).to(torch::kDouble);
  auto p_sum = pred.sum(1).to(torch::kDouble), t_sum = t.sum(1).to(torch::kDouble);
  auto uni = p_sum + t_sum - inter;
  for (int64_t i = 0; i < pred.size(0); ++i) {
    const double in = inter[i].item<double>(), ps = p_sum[i].item<double>(),
                 ts = t_sum[i].item<double>(), un = uni[i].item<double>();
    dice_sum_ += ps + ts == 0 ? 1.0 : 2 * in / (ps + ts);
    iou_sum_ += un == 0 ? 1.0 : in / un;
    ++count_;
  }
}

}  // namespace vlsm
