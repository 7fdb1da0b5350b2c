// Writes a tiny segmentation dataset in the VLSM-Adapter layout (images/,
// masks/, anns/{train,val,test}.json) for the dataset and training tests: a
// bright square or disc on a plain dark background per image, its mask, and
// prompts naming it. Deterministic in (seed, index).
#ifndef VLSM_TESTS_SUPPORT_TINY_DATASET_H_
#define VLSM_TESTS_SUPPORT_TINY_DATASET_H_

#include <filesystem>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"
#include "tests/support/files.h"

namespace vlsm::test_support {

// One image + mask pair named <split>_<i>.png.
inline nlohmann::json WriteTinySample(const std::string& dir, const std::string& split, int i,
                                      int seed, int size) {
  cv::RNG rng(static_cast<uint64_t>(seed) * 1000003u + static_cast<uint64_t>(i) * 7919u +
              (split == "train" ? 0
               : split == "val" ? 1
                                : 2));
  cv::Mat image(size, size, CV_8UC3,
                cv::Scalar(rng.uniform(0, 60), rng.uniform(0, 60), rng.uniform(0, 60)));
  cv::Mat mask(size, size, CV_8UC1, cv::Scalar(0));
  const int side = rng.uniform(size / 4, size / 2);
  const int x = rng.uniform(0, size - side), y = rng.uniform(0, size - side);
  const bool disc = i % 2 == 1;
  const cv::Scalar colour(rng.uniform(180, 255), rng.uniform(120, 255), rng.uniform(180, 255));
  if (disc) {
    cv::circle(image, {x + side / 2, y + side / 2}, side / 2, colour, cv::FILLED);
    cv::circle(mask, {x + side / 2, y + side / 2}, side / 2, cv::Scalar(255), cv::FILLED);
  } else {
    cv::rectangle(image, {x, y}, {x + side - 1, y + side - 1}, colour, cv::FILLED);
    cv::rectangle(mask, {x, y}, {x + side - 1, y + side - 1}, cv::Scalar(255), cv::FILLED);
  }
  const std::string name = split + "_" + std::to_string(i) + ".png";
  cv::imwrite(dir + "/images/" + name, image);
  cv::imwrite(dir + "/masks/" + name, mask);
  const std::string shape = disc ? "disc" : "square";
  return {{"img_name", name},
          {"mask_name", name},
          {"prompts", {{"p0", "a bright " + shape}, {"p1", {"the " + shape, shape}}}}};
}

// A dataset with `train`, `val`, `test` samples of size x size pixels.
inline void WriteTinyDataset(const std::string& dir, int train, int val, int test, int seed = 1,
                             int size = 64) {
  namespace fs = std::filesystem;
  fs::create_directories(dir + "/images");
  fs::create_directories(dir + "/masks");
  fs::create_directories(dir + "/anns");
  const std::vector<std::pair<std::string, int>> splits = {
      {"train", train}, {"val", val}, {"test", test}};
  for (const auto& [split, count] : splits) {
    nlohmann::json entries = nlohmann::json::array();
    for (int i = 0; i < count; ++i) entries.push_back(WriteTinySample(dir, split, i, seed, size));
    WriteFileBytes(dir + "/anns/" + split + ".json", entries.dump(1));
  }
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_TINY_DATASET_H_
