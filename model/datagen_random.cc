#include "model/datagen_random.h"

#include <cmath>

namespace vlsm::datagen {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr double kTwoPi = 6.283185307179586476925286766559;

}  // namespace

uint64_t Rng::DeriveSeed(uint64_t seed, uint64_t stream, uint64_t index) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ stream) ^ index);
}

double Rng::Uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

int Rng::UniformInt(int lo, int hi) {
  const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(hi) - lo) + 1;
  // Reject the top partial block so every value is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
  uint64_t x = engine_();
  while (x >= limit) x = engine_();
  return static_cast<int>(lo + static_cast<int64_t>(x % span));
}

double Rng::Normal() {
  const double u1 = 1.0 - Uniform01();  // (0, 1]: log is finite
  const double u2 = Uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

double Rng::Rayleigh() { return std::sqrt(-2.0 * std::log(1.0 - Uniform01())); }

}  // namespace vlsm::datagen
