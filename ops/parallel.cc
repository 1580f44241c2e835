// tapegrad/ops/parallel.cc: thread-count control for OpenMP and OpenBLAS; the deterministic flag;
// denormal flushing on the compute threads.
#include "ops/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "ops/error.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace tg {

namespace {
std::atomic<bool> g_deterministic{false};
std::atomic<bool> g_flush_denormal{false};

std::atomic<int> g_most_threads{0};  // the largest team set_num_threads asked for (see set_pool_flush)

#if defined(__SSE__)
constexpr unsigned kFlushBits = 0x8040;  // MXCSR flush-to-zero (bit 15) and denormals-are-zero (bit 6)
void set_this_thread_flush(bool on) { _mm_setcsr(on ? _mm_getcsr() | kFlushBits : _mm_getcsr() & ~kFlushBits); }

// OpenMP keeps idle threads of a larger earlier team for reuse, so the mode goes to as many threads
// as any team has had.
void set_pool_flush(bool on, int threads) {
#pragma omp parallel num_threads(threads)
  set_this_thread_flush(on);
}
#endif

// The default, on the thread that loads the program only: every later thread, OpenMP's pool
// included, inherits it (no thread pool is started before main).
const bool g_flush_default_applied = [] {
#if defined(__SSE__)
  set_this_thread_flush(true);
  g_flush_denormal.store(true, std::memory_order_relaxed);
#endif
  return true;
}();
}  // namespace

bool set_flush_denormal(bool on) {
#if defined(__SSE__)
  set_pool_flush(on, std::max(g_most_threads.load(), omp_get_max_threads()));  // the caller is its thread 0
  g_flush_denormal.store(on, std::memory_order_relaxed);
  return true;
#else
  (void)on;
  return false;
#endif
}

bool flush_denormal() { return g_flush_denormal.load(std::memory_order_relaxed); }

void set_num_threads(int threads) {
  TG_CHECK(threads >= 1, "set_num_threads: expected >= 1 thread, got ", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  int most = g_most_threads.load();
  while (threads > most && !g_most_threads.compare_exchange_weak(most, threads)) {
  }
}

int get_num_threads() { return omp_get_max_threads(); }

void set_deterministic(bool on) { g_deterministic.store(on, std::memory_order_relaxed); }
bool deterministic() { return g_deterministic.load(std::memory_order_relaxed); }

}  // namespace tg
