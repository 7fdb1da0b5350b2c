// Whole-file reads and writes for tests. The files are the tests' own
// fixtures and outputs, so a file that cannot be read gives an empty string
// and the test's own checks fail on it (production code uses
// ReadFileToString / WriteFileAtomically, whose status says why).
#ifndef VLSM_TESTS_SUPPORT_FILES_H_
#define VLSM_TESTS_SUPPORT_FILES_H_

#include <fstream>
#include <sstream>
#include <string>

namespace vlsm::test_support {

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `bytes` to `path` (replacing it); false when that fails.
inline bool WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  return out.good();
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_FILES_H_
