// tapegrad/ops/testing/random_array.h: float32 test inputs drawn from N(0, 1) with std::mt19937,
// the same values for the same seed on every machine and library build.
#pragma once

#include <cstdint>
#include <random>

#include "ops/array.h"

namespace tg::ops::testing {

inline Array random_array(const Shape& shape, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  Array a = Array::empty(shape, kFloat32);
  float* d = a.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) d[i] = normal(gen);
  return a;
}

}  // namespace tg::ops::testing
