// tapegrad/ops/internal/sum_loops.h: the sum over the outer and inner blocks of a contiguous
// [a, k, b] array (a bias gradient: NCHW summed over N, H and W), shared by reduce.cc (integer
// dtypes) and the per-ISA vector kernels (float dtypes, vector_kernels.cc).
#pragma once

#include <cstdint>

namespace tg::ops::internal {

// out[j] for j in [j0, j1): the sum of x[(i * k + j) * b + m] over i < a, m < b, accumulated in Acc
// in eight interleaved lanes (so the loop vectorizes) added in a fixed order: the same bits for
// any thread count and ISA level.
template <typename T, typename Acc>
void sum_outer_and_inner_range(const T* x, int64_t a, int64_t k, int64_t b, int64_t j0, int64_t j1, T* out) {
  constexpr int kLanes = 8;
  for (int64_t j = j0; j < j1; ++j) {
    Acc lanes[kLanes] = {};
    for (int64_t i = 0; i < a; ++i) {
      const T* row = x + (i * k + j) * b;
      int64_t m = 0;
      for (; m + kLanes <= b; m += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] += row[m + l];
      for (; m < b; ++m) lanes[m % kLanes] += row[m];
    }
    Acc s = 0;
    for (int l = 0; l < kLanes; ++l) s += lanes[l];
    out[j] = static_cast<T>(s);
  }
}

}  // namespace tg::ops::internal
