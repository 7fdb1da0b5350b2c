// Whole-file reads for tests. The files are the tests' own fixtures and
// outputs, so a file that cannot be read gives an empty string and the test's
// own checks fail on it (production code uses ReadFileToString, whose status
// says why).
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

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_FILES_H_
