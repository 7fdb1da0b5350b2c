#include "model/cli_inputs.h"

#include <algorithm>
#include <filesystem>

namespace vlsm {

std::vector<std::string> ExtractRepeatedFlag(const std::string& name, int* argc, char** argv) {
  const std::string flag = "--" + name, with_value = flag + "=";
  std::vector<std::string> values;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(with_value, 0) == 0) {
      values.push_back(arg.substr(with_value.size()));
    } else if (arg == flag && i + 1 < *argc) {
      values.push_back(argv[++i]);
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return values;
}

std::vector<std::string> ExpandInputFiles(const std::vector<std::string>& inputs,
                                          bool* had_folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    if (!fs::is_directory(input)) {
      files.push_back(input);
      continue;
    }
    if (had_folder != nullptr) *had_folder = true;
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(input)) {
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') {
        found.push_back(e.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace vlsm
