// The training objective and the segmentation scores of vlsm-train
// (internal to model/: includes torch).
//
// DiceCeLoss is MONAI's DiceCELoss(sigmoid=True, lambda_dice, lambda_ce) for
// one output channel, as VLSM-Adapter trains: the soft Dice loss per image
// (1 - (2 sum(p t) + 1e-5) / (sum p + sum t + 1e-5), p = sigmoid(logits)),
// averaged over the batch, plus binary cross-entropy with logits averaged over
// every pixel (MONAI uses BCEWithLogitsLoss when the input has one channel).
// Threading: pure functions; ScoreAccumulator is a plain value (one thread).
#ifndef VLSM_MODEL_TRAIN_LOSS_H_
#define VLSM_MODEL_TRAIN_LOSS_H_

#include <torch/torch.h>

#include <cstdint>

namespace vlsm {

struct DiceCeWeights {
  double dice = 1.5;
  double ce = 1.0;
};

// logits, target: [N, H, W] float (target 0/1). Returns a scalar.
torch::Tensor DiceCeLoss(const torch::Tensor& logits, const torch::Tensor& target,
                         const DiceCeWeights& weights = {});

// Mean per-image Dice and IoU of sigmoid(logits) > threshold against 0/1
// targets. An image whose prediction and target are both empty scores 1.
class ScoreAccumulator {
 public:
  explicit ScoreAccumulator(double threshold = 0.5) : threshold_(threshold) {}
  void Add(const torch::Tensor& logits, const torch::Tensor& target);  // [N, H, W]
  double dice() const { return count_ ? dice_sum_ / count_ : 0.0; }
  double iou() const { return count_ ? iou_sum_ / count_ : 0.0; }
  int64_t count() const { return count_; }

 private:
  double threshold_;
  double dice_sum_ = 0, iou_sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAIN_LOSS_H_
