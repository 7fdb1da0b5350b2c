#include "model/datagen_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "absl/strings/str_format.h"
#include "model/datagen_polyp.h"
#include "model/datagen_random.h"
#include "model/datagen_scene.h"
#include "model/datagen_shapes.h"
#include "model/datagen_ultrasound.h"

namespace vlsm::datagen {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxEntries = 1000000;
constexpr int kShapeTargetsPerImage = 2;

absl::Status WriteBytes(const fs::path& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) return absl::InternalError(absl::StrFormat("cannot write %s", path.string()));
  return absl::OkStatus();
}

absl::Status WritePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> png;
  try {
    if (!cv::imencode(".png", image, png, {cv::IMWRITE_PNG_COMPRESSION, 6})) {
      return absl::InternalError(absl::StrFormat("cannot encode %s", path.string()));
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrFormat("cannot encode %s: %s", path.string(), e.what()));
  }
  return WriteBytes(path, png.data(), png.size());
}

Sample Generate(DatasetKind kind, Rng& rng, int size, int max_targets) {
  switch (kind) {
    case DatasetKind::kShapes:
      return GenerateShapes(rng, size, max_targets);
    case DatasetKind::kPolyp:
      return GeneratePolyp(rng, size);
    case DatasetKind::kUltrasound:
      break;
  }
  return GenerateUltrasound(rng, size);
}

absl::StatusOr<nlohmann::json> WriteSplit(const DatasetOptions& options, const fs::path& out,
                                          int split_index, const std::string& split, int entries) {
  nlohmann::json anns = nlohmann::json::array();
  int images = 0;
  // A generator may (rarely) yield no usable target; bound the retries.
  const int max_images = 4 * entries + 16;
  while (static_cast<int>(anns.size()) < entries && images < max_images) {
    Rng rng(Rng::DeriveSeed(options.seed, static_cast<uint64_t>(options.kind) * 16 + split_index,
                            images));
    const int wanted = entries - static_cast<int>(anns.size());
    const Sample sample =
        Generate(options.kind, rng, options.size, std::min(wanted, kShapeTargetsPerImage));
    const std::string stem = absl::StrFormat("%s_%05d", split, images);
    ++images;
    std::vector<const Target*> usable;
    for (const Target& t : sample.targets) {
      if (cv::countNonZero(t.mask) > 0) usable.push_back(&t);
    }
    if (usable.empty()) continue;
    const std::string img_name = stem + ".png";
    if (absl::Status s = WritePng(out / "images" / img_name, sample.image); !s.ok()) return s;
    for (size_t k = 0; k < usable.size() && static_cast<int>(anns.size()) < entries; ++k) {
      const std::string mask_name = absl::StrFormat("%s_%d.png", stem, k);
      if (absl::Status s = WritePng(out / "masks" / mask_name, usable[k]->mask); !s.ok()) return s;
      anns.push_back(
          {{"img_name", img_name}, {"mask_name", mask_name}, {"prompts", usable[k]->prompts}});
    }
  }
  if (static_cast<int>(anns.size()) < entries) {
    return absl::InternalError(absl::StrFormat("%s: only %d of %d entries after %d images", split,
                                               anns.size(), entries, images));
  }
  const std::string text = anns.dump(1) + "\n";
  if (absl::Status s = WriteBytes(out / "anns" / (split + ".json"), text.data(), text.size());
      !s.ok()) {
    return s;
  }
  return nlohmann::json{{"entries", anns.size()}, {"images", images}};
}

}  // namespace

absl::StatusOr<DatasetKind> ParseDatasetKind(std::string_view name) {
  if (name == "shapes") return DatasetKind::kShapes;
  if (name == "polyp") return DatasetKind::kPolyp;
  if (name == "ultrasound") return DatasetKind::kUltrasound;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown dataset kind '%s' (shapes, polyp or ultrasound)", name));
}

std::string DatasetKindName(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::kShapes:
      return "shapes";
    case DatasetKind::kPolyp:
      return "polyp";
    case DatasetKind::kUltrasound:
      break;
  }
  return "ultrasound";
}

absl::StatusOr<nlohmann::json> WriteDataset(const DatasetOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("no output directory");
  if (options.size < 32 || options.size > 1024) {
    return absl::InvalidArgumentError(
        absl::StrFormat("image size %d is outside 32..1024", options.size));
  }
  const int counts[3] = {options.train, options.val, options.test};
  for (int c : counts) {
    if (c < 0 || c > kMaxEntries) {
      return absl::InvalidArgumentError(
          absl::StrFormat("split size %d is outside 0..%d", c, kMaxEntries));
    }
  }
  if (counts[0] + counts[1] + counts[2] == 0) {
    return absl::InvalidArgumentError("all splits are empty");
  }
  const fs::path out(options.out_dir);
  for (const char* sub : {"images", "masks", "anns"}) {
    std::error_code ec;
    fs::create_directories(out / sub, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrFormat("cannot create %s: %s", (out / sub).string(), ec.message()));
    }
  }
  nlohmann::json splits = nlohmann::json::object();
  const char* const names[3] = {"train", "val", "test"};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<nlohmann::json> split = WriteSplit(options, out, i, names[i], counts[i]);
    if (!split.ok()) return split.status();
    splits[names[i]] = *std::move(split);
  }
  return nlohmann::json{{"kind", DatasetKindName(options.kind)},
                        {"out", options.out_dir},
                        {"seed", options.seed},
                        {"size", options.size},
                        {"splits", splits}};
}

}  // namespace vlsm::datagen
