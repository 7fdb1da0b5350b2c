// Procedural textures shared by the dataset generators: smooth value noise,
// per-pixel sensor noise and the float-to-8-bit conversion, all drawn from
// our portable Rng so a seed gives the same pixels on every run.
//
// Ownership: every function returns new images or edits the one passed in.
// Threading: pure apart from the Rng; safe with one Rng per thread.
// Errors: none (sizes are the caller's contract: size >= 1, cells >= 1).
#ifndef VLSM_MODEL_DATAGEN_TEXTURE_H_
#define VLSM_MODEL_DATAGEN_TEXTURE_H_

#include <opencv2/core.hpp>

#include "model/datagen_random.h"

namespace vlsm::datagen {

// A colour given as R, G, B (0..255) stored in OpenCV's B, G, R order.
inline cv::Vec3f Rgb(double r, double g, double b) {
  return cv::Vec3f(static_cast<float>(b), static_cast<float>(g), static_cast<float>(r));
}

// Smooth noise in about [0, 1]: a (cells + 1)^2 grid of uniform values,
// bicubically upsampled to size x size (features ~size / cells wide).
cv::Mat1f SmoothNoise(Rng& rng, int size, int cells);

// Adds N(0, sigma) independently to every channel of every pixel.
void AddGaussianNoise(Rng& rng, double sigma, cv::Mat3f& image);

// Rounds and saturates a float BGR image (0..255) to 8 bits.
cv::Mat3b ToBgr8(const cv::Mat3f& image);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_TEXTURE_H_
