#include "model/blas_runtime.h"

#include <dlfcn.h>
#include <stdlib.h>

#include "gtest/gtest.h"

namespace vlsm {
namespace {

// install-deps.sh makes OpenBLAS the system's libblas.so.3, which LibTorch
// (linked into this test through the engine) loads.
TEST(BlasRuntimeTest, DescribesOpenBlas) {
  const BlasInfo info = DescribeBlas();
  ASSERT_TRUE(info.openblas) << "libblas.so.3 is not OpenBLAS";
  EXPECT_FALSE(info.core.empty());
  EXPECT_NE(info.config.find("OpenBLAS"), std::string::npos) << info.config;
}

TEST(BlasRuntimeTest, NoSuggestionOnceTheCoreTypeIsChosen) {
  const char* previous = getenv("OPENBLAS_CORETYPE");
  const std::string saved = previous ? previous : "";
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  EXPECT_EQ(DescribeBlas().suggested_core, "");
  if (previous) {
    setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  } else {
    unsetenv("OPENBLAS_CORETYPE");
  }
}

// Whatever OPENBLAS_CORETYPE said at load time (deploy/test.sh sets it),
// with the variable unset the suggestion names a wider kernel set than the
// one in use, or nothing when the widest is already in use.
TEST(BlasRuntimeTest, SuggestsOnlyAWiderKernelSet) {
  const char* previous = getenv("OPENBLAS_CORETYPE");
  const std::string saved = previous ? previous : "";
  unsetenv("OPENBLAS_CORETYPE");
  const BlasInfo info = DescribeBlas();
  if (previous) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  if (info.core == "SkylakeX") {
    EXPECT_EQ(info.suggested_core, "");
  } else if (info.core == "Prescott" && __builtin_cpu_supports("avx2")) {
    EXPECT_FALSE(info.suggested_core.empty());
  }
  EXPECT_NE(info.suggested_core, info.core);
}

TEST(BlasRuntimeTest, SetsOpenBlasThreads) {
  auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  ASSERT_NE(get, nullptr);
  const int before = get();
  SetBlasThreads(1);
  EXPECT_EQ(get(), 1);
  SetBlasThreads(before);
  EXPECT_EQ(get(), before);
}

}  // namespace
}  // namespace vlsm
