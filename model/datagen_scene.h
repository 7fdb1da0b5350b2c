// What every dataset generator produces (an image with one or more target
// masks and their prompts) and the words that describe a mask's place and
// size. The words are computed from the mask itself, so a prompt built from
// them is true of the pixels written.
//
// Ownership: value types (cv::Mat shares pixels on copy; clone to detach).
// Threading: pure functions; safe from any thread.
// Errors: none; an empty mask measures as empty.
#ifndef VLSM_MODEL_DATAGEN_SCENE_H_
#define VLSM_MODEL_DATAGEN_SCENE_H_

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace vlsm::datagen {

// One segmentation target: a 0/255 mask (same size as the image) and its
// prompts {"p0": "...", "p1": ["alt", ...], ...}.
struct Target {
  cv::Mat1b mask;
  nlohmann::json prompts;
};

// A generated image (BGR, 8-bit, square) and its targets.
struct Sample {
  cv::Mat3b image;
  std::vector<Target> targets;
};

struct MaskGeometry {
  int area = 0;           // foreground pixels
  double cx = 0, cy = 0;  // centroid, pixels
  double extent = 0;      // larger side of the bounding box / image side
};
MaskGeometry MeasureMask(const cv::Mat1b& mask);

// Thirds of the image: 0 = top/left, 1 = middle/center, 2 = bottom/right.
int Third(double coordinate, int size);

// "at the top left", "at the top", "on the left", "in the center", ...
std::string GridPhrase(int row, int col);

enum class SizeClass { kSmall, kMedium, kLarge };
// kSmall below small_below, kLarge above large_above (fractions of the side).
SizeClass ClassifyExtent(double extent, double small_below, double large_above);
// "small", "" (medium: no word), "large".
std::string SizeWord(SizeClass size);

// "a" or "an" for the following word.
std::string Article(const std::string& next_word);
// Joins non-empty words with single spaces.
std::string JoinWords(const std::vector<std::string>& words);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_SCENE_H_
