// tapegrad/ops/parallel.h: the process-wide thread count. Our kernels and oneDNN share OpenMP's
// single pool; OpenBLAS is told the same count so the two never oversubscribe the cores.
#pragma once

namespace tg {

void set_num_threads(int threads);
int get_num_threads();

}  // namespace tg
