#include "model/datagen_texture.h"

#include <opencv2/imgproc.hpp>

namespace vlsm::datagen {

cv::Mat1f SmoothNoise(Rng& rng, int size, int cells) {
  cv::Mat1f grid(cells + 1, cells + 1);
  for (int y = 0; y <= cells; ++y) {
    for (int x = 0; x <= cells; ++x) grid(y, x) = static_cast<float>(rng.Uniform01());
  }
  cv::Mat1f out;
  cv::resize(grid, out, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
  return out;
}

void AddGaussianNoise(Rng& rng, double sigma, cv::Mat3f& image) {
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      cv::Vec3f& p = image(y, x);
      for (int c = 0; c < 3; ++c) p[c] += static_cast<float>(rng.Normal(0.0, sigma));
    }
  }
}

cv::Mat3b ToBgr8(const cv::Mat3f& image) {
  cv::Mat3b out(image.size());
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3f& p = image(y, x);
      for (int c = 0; c < 3; ++c) out(y, x)[c] = cv::saturate_cast<uchar>(p[c]);
    }
  }
  return out;
}

}  // namespace vlsm::datagen
