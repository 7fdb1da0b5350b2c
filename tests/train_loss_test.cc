// Dice-CE loss and Dice/IoU scores against hand-computed values.
#include "model/train_loss.h"

#include <cmath>

#include "gtest/gtest.h"

namespace vlsm {
namespace {

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double Bce(double logit, double target) {
  const double p = Sigmoid(logit);
  return -(target * std::log(p) + (1 - target) * std::log(1 - p));
}

TEST(DiceCeLossTest, HalfProbabilitiesAgainstAHalfMask) {
  // p = 0.5 everywhere; target {1, 1, 0, 0}.
  auto logits = torch::zeros({1, 2, 2});
  auto target = torch::tensor({1.f, 1.f, 0.f, 0.f}).view({1, 2, 2});
  const double dice = 1 - (2 * 1.0 + 1e-5) / (2.0 + 2.0 + 1e-5);
  const double expected = 1.5 * dice + 1.0 * std::log(2.0);
  EXPECT_NEAR(DiceCeLoss(logits, target).item<double>(), expected, 1e-6);
}

TEST(DiceCeLossTest, DicePerImageThenMeanAndCeOverAllPixels) {
  const float l[2][3] = {{2.f, -1.f, 0.5f}, {-3.f, -2.f, 1.f}};
  const float t[2][3] = {{1.f, 0.f, 1.f}, {0.f, 0.f, 0.f}};
  auto logits = torch::from_blob(const_cast<float*>(&l[0][0]), {2, 1, 3}).clone();
  auto target = torch::from_blob(const_cast<float*>(&t[0][0]), {2, 1, 3}).clone();
  double dice = 0, ce = 0;
  for (int i = 0; i < 2; ++i) {
    double inter = 0, ps = 0, ts = 0;
    for (int j = 0; j < 3; ++j) {
      const double p = Sigmoid(l[i][j]);
      inter += p * t[i][j];
      ps += p;
      ts += t[i][j];
      ce += Bce(l[i][j], t[i][j]);
    }
    dice += 1 - (2 * inter + 1e-5) / (ps + ts + 1e-5);
  }
  const double expected = 1.5 * dice / 2 + 1.0 * ce / 6;
  EXPECT_NEAR(DiceCeLoss(logits, target).item<double>(), expected, 1e-5);
  // Other weights.
  EXPECT_NEAR(DiceCeLoss(logits, target, {1.0, 0.0}).item<double>(), dice / 2, 1e-5);
  EXPECT_NEAR(DiceCeLoss(logits, target, {0.0, 1.0}).item<double>(), ce / 6, 1e-5);
}

TEST(DiceCeLossTest, GradientPointsTowardsTheTarget) {
  auto logits = torch::zeros({1, 2, 2}).set_requires_grad(true);
  auto target = torch::tensor({1.f, 0.f, 1.f, 0.f}).view({1, 2, 2});
  DiceCeLoss(logits, target).backward();
  auto g = logits.grad().flatten();
  EXPECT_LT(g[0].item<float>(), 0.f);  // raise the foreground logit
  EXPECT_GT(g[1].item<float>(), 0.f);  // lower the background one
}

TEST(ScoreAccumulatorTest, PerImageDiceAndIouAveraged) {
  ScoreAccumulator acc(0.5);
  // Image 1: pred {1,1,0,0}, target {1,0,1,0}: dice 2/4, iou 1/3.
  // Image 2: both empty: 1 and 1.
  auto logits = torch::tensor({3.f, 1.f, -1.f, -2.f, -1.f, -1.f, -1.f, -1.f}).view({2, 2, 2});
  auto target = torch::tensor({1.f, 0.f, 1.f, 0.f, 0.f, 0.f, 0.f, 0.f}).view({2, 2, 2});
  acc.Add(logits, target);
  EXPECT_EQ(acc.count(), 2);
  EXPECT_NEAR(acc.dice(), (0.5 + 1.0) / 2, 1e-12);
  EXPECT_NEAR(acc.iou(), (1.0 / 3 + 1.0) / 2, 1e-12);
  // An empty prediction on a non-empty target scores 0.
  acc.Add(torch::full({1, 2, 2}, -5.f), torch::ones({1, 2, 2}));
  EXPECT_NEAR(acc.dice(), 1.5 / 3, 1e-12);
}

TEST(ScoreAccumulatorTest, ThresholdIsOnTheProbability) {
  ScoreAccumulator strict(0.9);  // logit 1 -> p 0.73 is background at 0.9
  strict.Add(torch::full({1, 1, 2}, 1.f), torch::ones({1, 1, 2}));
  EXPECT_EQ(strict.dice(), 0.0);
  ScoreAccumulator loose(0.5);
  loose.Add(torch::full({1, 1, 2}, 1.f), torch::ones({1, 1, 2}));
  EXPECT_EQ(loose.dice(), 1.0);
}

}  // namespace
}  // namespace vlsm
