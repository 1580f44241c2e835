// tapegrad/ops/generator.h: the seedable random generator (xoshiro256**) behind rand, randn,
// dropout masks and initializers. Its state is four integers, so checkpoints can save it exactly.
//   tg::ops::default_generator().seed(42);   // reproducible runs
#pragma once

#include <array>
#include <cstdint>

namespace tg::ops {

class Generator {
 public:
  explicit Generator(uint64_t seed = 5489) { this->seed(seed); }
  void seed(uint64_t seed);
  uint64_t next_u64();
  double uniform();  // in [0, 1), 53 random bits
  double normal();   // standard normal (Box-Muller; the second value is cached)

  struct State {
    std::array<uint64_t, 4> s;
    bool has_cached_normal;
    double cached_normal;
  };
  State state() const { return {s_, has_cached_normal_, cached_normal_}; }
  void set_state(const State& state);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_cached_normal_ = false;
  double cached_normal_ = 0;
};

// The process-wide generator used when no generator is passed. Not thread-safe: seed and draw
// from one thread (like torch's default CPU generator under the GIL).
Generator& default_generator();

}  // namespace tg::ops
