// tapegrad/ops/internal/strided_loop.h: the one loop that walks N operands of a common shape with
// arbitrary (possibly zero, i.e. broadcast) strides. Rows (all dims but the last) may run in
// parallel; the callback gets base pointers per operand for one row plus the row's inner strides.
#pragma once

#include <array>
#include <cstdint>

#include "ops/shape.h"

namespace tg::ops::internal {

// Below this many elements a loop runs on one thread: the fork/join costs more than it saves.
constexpr int64_t kParallelGrain = 32768;

// Calls row(offsets, inner_size) for every row of `shape`, where offsets[k] is the element offset
// of operand k at the start of the row; the inner dimension uses strides[k].back() (or 1 for 0-d).
// Pass allow_parallel=false when different rows may write the same memory.
template <size_t N, typename RowFn>
void for_each_row(const Shape& shape, const std::array<const Shape*, N>& strides, RowFn&& row,
                  bool allow_parallel = true) {
  const int64_t ndim = static_cast<int64_t>(shape.size());
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (numel == 0) return;
  if (ndim == 0) {
    std::array<int64_t, N> offsets{};
    row(offsets, int64_t{1});
    return;
  }
  const int64_t inner = shape[ndim - 1];
  const int64_t rows = numel / inner;
  auto run = [&](int64_t r) {
    std::array<int64_t, N> offsets{};
    int64_t rem = r;
    for (int64_t d = ndim - 2; d >= 0; --d) {
      const int64_t idx = rem % shape[d];
      rem /= shape[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += idx * (*strides[k])[d];
    }
    row(offsets, inner);
  };
  if (allow_parallel && numel >= kParallelGrain && rows > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) run(r);
  } else {
    for (int64_t r = 0; r < rows; ++r) run(r);
  }
}

// Strides of an operand of shape `in` viewed as broadcast to `out` (0 where broadcast).
Shape broadcast_strides(const Shape& in, const Shape& in_strides, const Shape& out);

}  // namespace tg::ops::internal
