// A float32 tensor in host memory: how pixels go into and logits come out of
// the engine without torch types crossing the model/ boundary.
#ifndef VLSM_MODEL_HOST_TENSOR_H_
#define VLSM_MODEL_HOST_TENSOR_H_

#include <cstdint>
#include <vector>

namespace vlsm {

struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, numel(shape) values

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

}  // namespace vlsm

#endif  // VLSM_MODEL_HOST_TENSOR_H_
