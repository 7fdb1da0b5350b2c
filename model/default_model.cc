#include "model/default_model.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"

#ifndef VLSM_SOURCE_DEFAULT_MODEL
#define VLSM_SOURCE_DEFAULT_MODEL ""
#endif

namespace vlsm {
namespace {

namespace fs = std::filesystem;

std::string ExecutableDir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string() : exe.parent_path().string();
}

bool HasConfig(const std::string& dir) {
  std::error_code error;
  return !dir.empty() && fs::is_regular_file(fs::path(dir) / "config.json", error);
}

}  // namespace

absl::StatusOr<std::string> DefaultModelDir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VLSM_DEFAULT_MODEL"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  if (const std::string exe_dir = ExecutableDir(); !exe_dir.empty()) {
    candidates.push_back(exe_dir + "/../share/vlsm-serve/default-model");
  }
  candidates.push_back(VLSM_SOURCE_DEFAULT_MODEL);
  for (const std::string& dir : candidates) {
    if (HasConfig(dir)) return fs::path(dir).lexically_normal().string();
  }
  return absl::NotFoundError(
      "no --model given and the embedded default model was not found (looked in: " +
      absl::StrJoin(candidates, ", ") + "; set --model or $VLSM_DEFAULT_MODEL)");
}

absl::StatusOr<std::string> ModelDirOrDefault(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  return DefaultModelDir();
}

}  // namespace vlsm
