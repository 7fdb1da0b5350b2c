// Conversions between torch tensors and the torch-free types of model/, and
// the CPU thread set-up (internal to model/).
#ifndef VLSM_MODEL_TORCH_UTIL_H_
#define VLSM_MODEL_TORCH_UTIL_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/host_tensor.h"
#include "model/safetensors.h"

namespace vlsm {

// A tensor over the view's bytes without copying; `owner` is kept alive by
// the tensor's deleter. Never written to (the mapping is read-only).
torch::Tensor ViewAsTensor(const TensorView& view, std::shared_ptr<const void> owner);

torch::ScalarType ToScalarType(DType dtype);

HostTensor ToHost(const torch::Tensor& t);    // any float dtype/device -> float32 host
torch::Tensor FromHost(const HostTensor& t);  // shares nothing: copies

std::string ShapeToString(c10::IntArrayRef shape);

// Tensors under their safetensors names, in file order (trainable weights).
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
std::vector<torch::Tensor> TensorsOf(const NamedTensors& named);
int64_t NumElements(const NamedTensors& named);

// Sizes torch's intra-op pool and the BLAS's own pool (blas_runtime.h) to
// `requested` threads, 0 = all cores, and returns the count used. Both are
// process-wide; call before the first product (results depend on them).
int SetCpuThreads(int requested);

}  // namespace vlsm

#endif  // VLSM_MODEL_TORCH_UTIL_H_
