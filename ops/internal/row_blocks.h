// tapegrad/ops/internal/row_blocks.h: the loop over fixed blocks of rows of a row-major [m, c]
// array (channels-last data is [N*H*W, C]): blocks cut by shape alone, so per-block partial sums
// added in block order give the same bits at any thread count. Batch norm's channels-last
// statistics and the channels-last bias-gradient sum use it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ops/internal/strided_loop.h"

namespace tg::ops::internal {

inline int64_t row_blocks(int64_t m, int64_t rows_per_block) { return (m + rows_per_block - 1) / rows_per_block; }

// Calls run(b, r0, rows) for each block b of rows_per_block rows (the last may be shorter),
// rows [r0, r0 + rows), in parallel when the array is large enough.
template <typename F>
void for_row_blocks(int64_t m, int64_t c, int64_t rows_per_block, F run) {
  const int64_t blocks = row_blocks(m, rows_per_block);
#pragma omp parallel for schedule(static) if (m * c >= kParallelGrain)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * rows_per_block;
    run(b, r0, std::min(m, r0 + rows_per_block) - r0);
  }
}

}  // namespace tg::ops::internal
