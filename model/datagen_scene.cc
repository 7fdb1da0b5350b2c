#include "model/datagen_scene.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace vlsm::datagen {

MaskGeometry MeasureMask(const cv::Mat1b& mask) {
  MaskGeometry g;
  const cv::Moments m = cv::moments(mask, /*binaryImage=*/true);
  if (m.m00 <= 0) return g;
  g.area = cv::countNonZero(mask);
  g.cx = m.m10 / m.m00;
  g.cy = m.m01 / m.m00;
  const cv::Rect box = cv::boundingRect(mask);
  g.extent = static_cast<double>(std::max(box.width, box.height)) / mask.cols;
  return g;
}

int Third(double coordinate, int size) {
  const int t = static_cast<int>(3.0 * coordinate / size);
  return std::clamp(t, 0, 2);
}

std::string GridPhrase(int row, int col) {
  static const char* const kPhrases[3][3] = {
      {"at the top left", "at the top", "at the top right"},
      {"on the left", "in the center", "on the right"},
      {"at the bottom left", "at the bottom", "at the bottom right"},
  };
  return kPhrases[std::clamp(row, 0, 2)][std::clamp(col, 0, 2)];
}

SizeClass ClassifyExtent(double extent, double small_below, double large_above) {
  if (extent < small_below) return SizeClass::kSmall;
  if (extent > large_above) return SizeClass::kLarge;
  return SizeClass::kMedium;
}

std::string SizeWord(SizeClass size) {
  switch (size) {
    case SizeClass::kSmall:
      return "small";
    case SizeClass::kLarge:
      return "large";
    case SizeClass::kMedium:
      break;
  }
  return "";
}

std::string Article(const std::string& next_word) {
  if (next_word.empty()) return "a";
  const char c = next_word[0];
  return (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') ? "an" : "a";
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (w.empty()) continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace vlsm::datagen
