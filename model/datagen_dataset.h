// Writes a generated dataset in the VLSM-Adapter / MedVLSM layout:
//   OUT/images/<split>_<nnnnn>.png        (8-bit BGR PNG, size x size)
//   OUT/masks/<split>_<nnnnn>_<t>.png     (8-bit single channel, 0 / 255)
//   OUT/anns/{train,val,test}.json        ([{"img_name", "mask_name", "prompts"}])
// An image may carry several entries (shapes: up to two targets, each its own
// mask); no image is shared between splits. Image k of a split is drawn from
// a stream seeded by (seed, kind, split, k), so a seed and the arguments fix
// every byte, and changing one split's count leaves the others' images alone.
// Existing files of the same names are overwritten; others are left as they are.
//
// Ownership: writes under options.out_dir only.
// Threading: one call at a time per output directory.
// Errors: InvalidArgument for bad options, Internal for an encode or I/O
// failure (naming the file); no exception escapes.
#ifndef VLSM_MODEL_DATAGEN_DATASET_H_
#define VLSM_MODEL_DATAGEN_DATASET_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace vlsm::datagen {

enum class DatasetKind { kShapes, kPolyp, kUltrasound };
absl::StatusOr<DatasetKind> ParseDatasetKind(std::string_view name);
std::string DatasetKindName(DatasetKind kind);

struct DatasetOptions {
  DatasetKind kind = DatasetKind::kShapes;
  std::string out_dir;
  uint64_t seed = 0;
  int train = 0, val = 0, test = 0;  // entries per split
  int size = 128;                    // image side, pixels (32..1024)
};

// {"kind", "out", "seed", "size", "splits": {"train": {"entries", "images"}, ...}}
absl::StatusOr<nlohmann::json> WriteDataset(const DatasetOptions& options);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_DATASET_H_
