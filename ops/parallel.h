// tapegrad/ops/parallel.h: the thread count (fixed, or adapted to the cores other processes leave
// free), deterministic mode and denormal flushing of the compute threads. Our kernels, oneDNN and
// OpenBLAS (its OpenMP build) share OpenMP's single pool and follow the calling thread's count.
//
// Note [Sharing the cores]: a team of OpenMP threads finishes a parallel region only when its
// slowest thread does. When another process keeps cores busy, some of our threads wait in the run
// queue at nearly every region (a training step has ~60), idle threads spin in libgomp's barrier
// for milliseconds, and both processes crawl: two copies of the regression example took 11 s each
// instead of 2.3 s, two cnn_small trainings together reached 0.2-0.3x the images/s of one alone.
// So by default the team adapts: every 100 ms (checked at kernel entry, no extra thread) tapegrad
// compares the busy time of the CPUs it may use (/proc/stat, affinity mask) with its own CPU time;
// what is left is the other processes' load, and the team shrinks to the cores they leave free
// (at least 1) and grows back, one thread per window, once a whole core has been free
// (internal/core_share.h has the rule and its margins). Alone it keeps every core; two tapegrad
// processes settle at half the cores each. set_num_threads(n) or OMP_NUM_THREADS fix the count
// instead. libgomp's spin time (GOMP_SPINCOUNT, OMP_WAIT_POLICY) cannot be given a default from
// here: libgomp reads them in its own constructor, before any of ours, and glibc resets the
// environment after .preinit_array runs; users may still set them.
//
// Reproducibility: with a fixed thread count (or deterministic mode, for any count) every run
// gives the same bits. An adaptive team may change size with the machine's load, and some
// library kernels (OpenBLAS's SGEMM, see below) round differently per count, so bit-for-bit
// repeatable runs need set_num_threads(n) or set_deterministic(true).
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

#include <algorithm>
#include <cstdint>

namespace tg {

// Fixes the team at `threads` (Note [Sharing the cores]: the count stops adapting).
void set_num_threads(int threads);
// The calling thread's current team size.
int get_num_threads();

// Adapt the team to the free cores, up to the count set last (default: the usable cores). On by
// default unless OMP_NUM_THREADS is set; set_num_threads turns it off.
void set_adaptive_threads(bool on);
bool adaptive_threads();

// Results independent of the thread count (costs a little GEMM speed); off by default.
void set_deterministic(bool on);
bool deterministic();

// Flush subnormal floats to zero on the compute threads (on by default; Note [Flushing denormals]).
// Returns false, changing nothing, on CPUs without the MXCSR flags (non-x86).
bool set_flush_denormal(bool on);
bool flush_denormal();

namespace ops {
// Kernels call this before parallel work: with adaptive threads it re-measures the load when the
// window is over and updates the calling thread's OpenMP team size, unless the thread's count was
// set with omp_set_num_threads (then it is kept). A few nanoseconds otherwise.
void refresh_team_size();

// Runs fn(begin, end) over [0, n) in fixed chunks of 4096 elements, spread over the threads (in
// contiguous blocks) when n >= grain, else in one call on this thread. For loops whose body is a
// per-ISA kernel (internal/vector_kernels.h) called once per chunk.
template <typename Fn>
void parallel_chunks(int64_t n, int64_t grain, Fn&& fn) {
  constexpr int64_t kChunk = 4096;
  if (n < grain) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  refresh_team_size();
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c * kChunk, std::min(n, (c + 1) * kChunk));
}
}  // namespace ops

}  // namespace tg
