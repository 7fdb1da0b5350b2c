// Helpers of the imaging tests: file bytes and the uint8 tensors of
// tests/data/imaging/fixtures.safetensors (see tests/imaging_fixtures.py).
#ifndef VLSM_TESTS_SUPPORT_IMAGING_H_
#define VLSM_TESTS_SUPPORT_IMAGING_H_

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/safetensors.h"
#include "tests/support/cases.h"

namespace vlsm::test_support {

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct U8Tensor {
  std::vector<int64_t> shape;  // empty when absent
  std::vector<uint8_t> data;
};

inline U8Tensor ReadU8(const SafetensorsFile& file, const std::string& name) {
  U8Tensor out;
  const TensorView* v = file.Find(name);
  if (v == nullptr || v->dtype != DType::kU8) return out;
  out.shape = v->shape;
  const auto* p = static_cast<const uint8_t*>(v->data);
  out.data.assign(p, p + v->nbytes);
  return out;
}

inline std::unique_ptr<SafetensorsFile> OpenImagingFixtures() {
  return *SafetensorsFile::Open(TestData("imaging/fixtures.safetensors"));
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_IMAGING_H_
