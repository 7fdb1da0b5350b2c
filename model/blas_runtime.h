// The BLAS that LibTorch's CPU products reach through libblas.so.3.
//
// Debian's LibTorch links the generic libblas.so.3; which library that is
// (netlib's reference BLAS, OpenBLAS, ...) is chosen by the system, and
// LibTorch does not size OpenBLAS's own thread pool. OpenBLAS also picks its
// kernels from the CPU model at load time; on CPUs newer than it knows
// (e.g. OpenBLAS 0.3.21 on Emerald Rapids) it falls back to its slowest SSE3
// kernels ("Prescott"), about 4x slower than the AVX-512 ones.
//
// Threading: call from one thread at start-up (it changes process state).
// No errors: without OpenBLAS these report what they can and do nothing.
#ifndef VLSM_MODEL_BLAS_RUNTIME_H_
#define VLSM_MODEL_BLAS_RUNTIME_H_

#include <string>

namespace vlsm {

struct BlasInfo {
  bool openblas = false;
  std::string core;    // OpenBLAS's kernel set, e.g. "SkylakeX", "Haswell", "Prescott"
  std::string config;  // openblas_get_config()
  // The kernel set this CPU supports when OpenBLAS chose a narrower one
  // and OPENBLAS_CORETYPE is unset (set it to this before start); empty
  // otherwise.
  std::string suggested_core;
};

BlasInfo DescribeBlas();

// Sizes OpenBLAS's thread pool like torch's intra-op pool, so small products
// do not wake (and spin) threads the engine was not given.
void SetBlasThreads(int threads);

}  // namespace vlsm

#endif  // VLSM_MODEL_BLAS_RUNTIME_H_
