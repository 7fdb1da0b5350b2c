#include "model/torch_util.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/blas_runtime.h"

namespace vlsm {

torch::ScalarType ToScalarType(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return torch::kDouble;
    case DType::kF32:
      return torch::kFloat;
    case DType::kF16:
      return torch::kHalf;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kI64:
      return torch::kLong;
    case DType::kI32:
      return torch::kInt;
    case DType::kI16:
      return torch::kShort;
    case DType::kI8:
      return torch::kChar;
    case DType::kU8:
      return torch::kByte;
    case DType::kBool:
      return torch::kBool;
  }
  return torch::kFloat;
}

torch::Tensor ViewAsTensor(const TensorView& view, std::shared_ptr<const void> owner) {
  auto options = torch::TensorOptions().dtype(ToScalarType(view.dtype));
  if (view.numel() == 0) return torch::empty(view.shape, options);
  // from_blob wants a mutable pointer; the tensor is only ever read.
  return torch::from_blob(
      const_cast<void*>(view.data), view.shape, [owner](void*) mutable { owner.reset(); }, options);
}

HostTensor ToHost(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  HostTensor out;
  out.shape = c.sizes().vec();
  out.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return out;
}

torch::Tensor FromHost(const HostTensor& t) {
  return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat).clone();
}

std::string ShapeToString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape.begin(), shape.end(), ", "), "]");
}

std::vector<torch::Tensor> TensorsOf(const NamedTensors& named) {
  std::vector<torch::Tensor> out;
  out.reserve(named.size());
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

int64_t NumElements(const NamedTensors& named) {
  int64_t n = 0;
  for (const auto& [name, t] : named) n += t.numel();
  return n;
}

int SetCpuThreads(int requested) {
  const int threads = requested > 0
                          ? requested
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  SetBlasThreads(threads);
  return threads;
}

}  // namespace vlsm
