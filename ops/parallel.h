// tapegrad/ops/parallel.h: the process-wide thread count and deterministic mode. Our kernels and
// oneDNN share OpenMP's single pool; OpenBLAS is told the same count so the two never
// oversubscribe the cores.
//
// Note [Determinism across thread counts]: with a fixed thread count every kernel is bit-for-bit
// reproducible. Across thread counts, OpenBLAS's multi-threaded SGEMM splits its reduction
// differently (measured: [32,400]@[400,9800] differs in the last bits between 1 and 2 threads), so
// training with --threads=1 and --threads=2 diverges slowly. set_deterministic(true) makes every
// GEMM thread-count independent: C is cut into fixed tiles, each computed by a single-threaded
// BLAS call, with the tiles spread over the threads. Our own reductions already use fixed chunks.
#pragma once

namespace tg {

void set_num_threads(int threads);
int get_num_threads();

// Results independent of the thread count (costs a little GEMM speed); off by default.
void set_deterministic(bool on);
bool deterministic();

}  // namespace tg
