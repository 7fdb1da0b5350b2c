// Command-line helpers shared by vlsm-infer and vlsm-client.
// Threading: pure functions.
#ifndef VLSM_MODEL_CLI_INPUTS_H_
#define VLSM_MODEL_CLI_INPUTS_H_

#include <string>
#include <vector>

namespace vlsm {

// Removes every `--name=VALUE` / `--name VALUE` from argv and returns the
// values in order: absl flags cannot repeat a flag (e.g. --prompt).
std::vector<std::string> ExtractRepeatedFlag(const std::string& name, int* argc, char** argv);

// Files as given; folders expanded recursively, sorted, hidden files
// skipped. `had_folder` (optional) reports whether any input was a folder.
std::vector<std::string> ExpandInputFiles(const std::vector<std::string>& inputs,
                                          bool* had_folder = nullptr);

}  // namespace vlsm

#endif  // VLSM_MODEL_CLI_INPUTS_H_
