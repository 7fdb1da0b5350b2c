#include "model/blas_runtime.h"

#include <dlfcn.h>

#include <cstdlib>

namespace vlsm {
namespace {

// OpenBLAS's own entry points, looked up at run time: libblas.so.3 may be
// any BLAS, so we neither link OpenBLAS nor assume it.
template <typename Fn>
Fn Lookup(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

// How wide OpenBLAS's kernels for a core are: 0 = SSE, 1 = AVX, 2 = AVX2,
// 3 = AVX-512.
int KernelLevel(const std::string& core) {
  if (core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids") return 3;
  if (core == "Haswell" || core == "Zen") return 2;
  if (core == "Sandybridge") return 1;
  return 0;
}

std::string StrongestCoreOfThisCpu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

}  // namespace

BlasInfo DescribeBlas() {
  BlasInfo info;
  auto corename = Lookup<char* (*)()>("openblas_get_corename");
  auto config = Lookup<char* (*)()>("openblas_get_config");
  if (corename == nullptr) return info;
  info.openblas = true;
  info.core = corename();
  if (config != nullptr) info.config = config();
  const std::string strongest = StrongestCoreOfThisCpu();
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr &&
      KernelLevel(strongest) > KernelLevel(info.core)) {
    info.suggested_core = strongest;
  }
  return info;
}

void SetBlasThreads(int threads) {
  auto set = Lookup<void (*)(int)>("openblas_set_num_threads");
  if (set != nullptr && threads > 0) set(threads);
}

}  // namespace vlsm
