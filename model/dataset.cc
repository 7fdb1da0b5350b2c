#include "model/dataset.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/image_decode.h"
#include "model/mask.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path.string(), " does not exist"));
  }
  return ReadFileToString(path.string());
}

absl::StatusOr<DecodedImage> DecodeFile(const fs::path& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeImage(*bytes, DecodeLimits{});
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": ", decoded.status().message()));
  }
  return decoded;
}

// p0, p1, ..., p10 in numeric order (the json object iterates p10 before p2).
std::vector<std::string> OrderedKeys(const nlohmann::json& prompts) {
  std::vector<std::string> keys;
  for (auto it = prompts.begin(); it != prompts.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(a.size(), a) < std::make_pair(b.size(), b);
  });
  return keys;
}

// The entry's prompts, or InvalidArgument saying what is wrong.
absl::StatusOr<std::vector<std::string>> ParsePrompts(const nlohmann::json& entry,
                                                      const std::string& where) {
  auto it = entry.find("prompts");
  if (it == entry.end() || !it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"prompts\" must be an object of prompt keys"));
  }
  std::vector<std::string> out;
  for (const std::string& key : OrderedKeys(*it)) {
    const nlohmann::json& value = (*it)[key];
    if (value.is_string()) {
      out.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const auto& p : value) {
        if (!p.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": prompt \"", key, "\" holds a non-string"));
        }
        out.push_back(p.get<std::string>());
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": prompt \"", key, "\" must be a string or a list of strings"));
    }
  }
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": no prompts"));
  return out;
}

absl::StatusOr<std::string> StringField(const nlohmann::json& entry, const char* key,
                                        const std::string& where) {
  auto it = entry.find(key);
  if (it == entry.end() || !it->is_string() || it->get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"", key, "\" must be a non-empty string"));
  }
  const std::string name = it->get<std::string>();
  // Names are files inside images/ or masks/, never paths out of the dataset.
  if (name.find("..") != std::string::npos || name.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"", key, "\" '", name, "' leaves the dataset directory"));
  }
  return name;
}

// S x S 0/1 mask: foreground where any channel is non-zero, nearest-exact resized.
std::vector<float> MaskToModelSize(const DecodedImage& mask, int64_t size) {
  std::vector<uint8_t> binary(static_cast<size_t>(mask.height * mask.width), 0);
  for (int64_t p = 0; p < mask.height * mask.width; ++p) {
    for (int64_t c = 0; c < mask.channels; ++c) {
      if (mask.pixels[p * mask.channels + c] > 0) binary[p] = 1;
    }
  }
  std::vector<uint8_t> resized = NearestExactResize(binary, mask.height, mask.width, size, size);
  return std::vector<float>(resized.begin(), resized.end());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SegDataset>> SegDataset::Open(const std::string& dir,
                                                             const std::string& split,
                                                             const PreprocessConfig& preprocess) {
  if (!preprocess.do_resize || preprocess.height != preprocess.width || preprocess.height < 1) {
    return absl::InvalidArgumentError("dataset preprocessing must resize to a square");
  }
  const fs::path root(dir);
  const fs::path ann_path = root / "anns" / (split + ".json");
  auto text = ReadFile(ann_path);
  if (!text.ok()) return text.status();
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(ann_path.string(), ": not valid JSON"));
  }
  if (!json.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ann_path.string(), ": expected a JSON list of entries"));
  }
  std::unique_ptr<SegDataset> ds(new SegDataset());
  ds->image_size_ = preprocess.height;
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string where = absl::StrCat(ann_path.string(), " entry ", i);
    const nlohmann::json& entry = json[i];
    if (!entry.is_object()) return absl::InvalidArgumentError(where + ": not an object");
    SegSample s;
    auto img = StringField(entry, "img_name", where);
    if (!img.ok()) return img.status();
    auto mask = StringField(entry, "mask_name", where);
    if (!mask.ok()) return mask.status();
    auto prompts = ParsePrompts(entry, where);
    if (!prompts.ok()) return prompts.status();
    s.image_name = *img;
    s.mask_name = *mask;
    s.prompts = *std::move(prompts);
    auto image = DecodeFile(root / "images" / s.image_name);
    if (!image.ok()) return image.status();
    auto mask_image = DecodeFile(root / "masks" / s.mask_name);
    if (!mask_image.ok()) return mask_image.status();
    if (mask_image->height != image->height || mask_image->width != image->width) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": mask ", s.mask_name, " is ", mask_image->width, "x", mask_image->height,
          " but image ", s.image_name, " is ", image->width, "x", image->height));
    }
    auto pixels = Preprocess(*image, preprocess, std::nullopt);
    if (!pixels.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", pixels.status().message()));
    }
    s.pixels = *std::move(pixels);
    s.mask = MaskToModelSize(*mask_image, ds->image_size_);
    ds->samples_.push_back(std::move(s));
  }
  if (ds->samples_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ann_path.string(), ": no entries"));
  }
  return ds;
}

const std::string& SegDataset::RandomPrompt(size_t i, std::mt19937_64& rng) const {
  const auto& prompts = samples_[i].prompts;
  std::uniform_int_distribution<size_t> pick(0, prompts.size() - 1);
  return prompts[pick(rng)];
}

std::vector<std::string> SegDataset::AllPrompts() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const SegSample& s : samples_) {
    for (const std::string& p : s.prompts) {
      if (seen.insert(p).second) out.push_back(p);
    }
  }
  return out;
}

}  // namespace vlsm
