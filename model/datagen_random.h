// A seeded random source for the dataset generator whose draws are the same
// on every standard library: std::mt19937_64 (its output sequence is fixed by
// the standard) with our own uniform / normal / integer mappings, because the
// results of std::*_distribution are implementation-defined.
//
// Ownership: a value type; copy it to fork a stream.
// Threading: not thread-safe; use one per thread.
// Errors: none (argument order is the caller's contract: lo <= hi).
#ifndef VLSM_MODEL_DATAGEN_RANDOM_H_
#define VLSM_MODEL_DATAGEN_RANDOM_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vlsm::datagen {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // A seed for an independent stream named by (seed, stream, index):
  // splitmix64 over the three, so sample k of a split does not depend on how
  // many samples the other splits hold.
  static uint64_t DeriveSeed(uint64_t seed, uint64_t stream, uint64_t index);

  uint64_t Bits() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01();
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }
  // Uniform integer in [lo, hi] (inclusive), without modulo bias.
  int UniformInt(int lo, int hi);
  bool Bernoulli(double p) { return Uniform01() < p; }
  // Standard normal (Box-Muller; one draw per call, the pair's twin is dropped
  // so the stream position never depends on call history).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // Rayleigh with scale 1 (mean ~1.2533): the amplitude of ultrasound speckle.
  double Rayleigh();

  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[UniformInt(0, static_cast<int>(items.size()) - 1)];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_RANDOM_H_
