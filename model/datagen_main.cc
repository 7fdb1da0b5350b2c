// vlsm-datagen: writes a seeded synthetic segmentation dataset (shapes,
// polyp or ultrasound) in the VLSM-Adapter layout and prints a JSON summary.
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "model/datagen_dataset.h"

ABSL_FLAG(std::string, kind, "shapes", "dataset: shapes, polyp or ultrasound");
ABSL_FLAG(std::string, out, "", "output directory (images/, masks/, anns/ are created)");
ABSL_FLAG(uint64_t, seed, 0, "random seed; the same seed and arguments give identical files");
ABSL_FLAG(int, train, 200, "entries in the train split");
ABSL_FLAG(int, val, 50, "entries in the val split");
ABSL_FLAG(int, test, 50, "entries in the test split");
ABSL_FLAG(int, size, 128, "image side in pixels (square images, 32..1024)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes a synthetic segmentation dataset.\n"
      "  vlsm-datagen --kind shapes|polyp|ultrasound --out DIR --seed N "
      "--train N --val N --test N [--size PX]");
  absl::ParseCommandLine(argc, argv);
  const absl::StatusOr<vlsm::datagen::DatasetKind> kind =
      vlsm::datagen::ParseDatasetKind(absl::GetFlag(FLAGS_kind));
  if (!kind.ok()) {
    std::cerr << "vlsm-datagen: " << kind.status().message() << "\n";
    return 2;
  }
  vlsm::datagen::DatasetOptions options;
  options.kind = *kind;
  options.out_dir = absl::GetFlag(FLAGS_out);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.train = absl::GetFlag(FLAGS_train);
  options.val = absl::GetFlag(FLAGS_val);
  options.test = absl::GetFlag(FLAGS_test);
  options.size = absl::GetFlag(FLAGS_size);
  const absl::StatusOr<nlohmann::json> summary = vlsm::datagen::WriteDataset(options);
  if (!summary.ok()) {
    std::cerr << "vlsm-datagen: " << summary.status().message() << "\n";
    return summary.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << summary->dump() << std::endl;
  return 0;
}
