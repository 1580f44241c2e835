// tapegrad/ops/parallel.h: the process-wide thread count, deterministic mode and denormal flushing
// of the compute threads. Our kernels and oneDNN share OpenMP's single pool; OpenBLAS is told the
// same count so the two never oversubscribe the cores.
//
// Note [Determinism across thread counts]: with a fixed thread count every kernel is bit-for-bit
// reproducible. Across thread counts, OpenBLAS's multi-threaded SGEMM splits its reduction
// differently (measured: [32,400]@[400,9800] differs in the last bits between 1 and 2 threads), so
// training with --threads=1 and --threads=2 diverges slowly. set_deterministic(true) makes every
// GEMM thread-count independent: C is cut into fixed tiles, each computed by a single-threaded
// BLAS call, with the tiles spread over the threads. Our own reductions already use fixed chunks.
//
// Note [Flushing denormals]: float arithmetic that produces or reads subnormal numbers (|x| <
// 1.2e-38) is many times slower on x86, and training makes them: after ~150 steps of the MNIST CNN
// they appear and training slows from ~10,000 to ~6,500 images/s (bench/mnist_throughput,
// cnn_small, 2 threads, measured per 100 steps). So, like TensorFlow and unlike PyTorch (where
// torch.set_flush_denormal(True) is opt-in), tapegrad flushes them to zero by default (MXCSR's FTZ
// and DAZ bits, float and double alike). The bits are per thread: set_flush_denormal sets them on
// the calling thread and on OpenMP's pool, and threads inherit them from the thread that creates
// them (the default is applied to the loading thread before main). A subnormal is already short of
// float's precision, so flushing it changes results by amounts like rounding;
// set_flush_denormal(false) restores IEEE gradual underflow.
#pragma once

namespace tg {

void set_num_threads(int threads);
int get_num_threads();

// Results independent of the thread count (costs a little GEMM speed); off by default.
void set_deterministic(bool on);
bool deterministic();

// Flush subnormal floats to zero on the compute threads (on by default; Note [Flushing denormals]).
// Returns false, changing nothing, on CPUs without the MXCSR flags (non-x86).
bool set_flush_denormal(bool on);
bool flush_denormal();

}  // namespace tg
