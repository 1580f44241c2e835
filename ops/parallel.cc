// tapegrad/ops/parallel.cc: thread-count control for OpenMP and OpenBLAS, fixed or adaptive; the
// deterministic flag; denormal flushing on the compute threads.
#include "ops/parallel.h"

#include <omp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "ops/error.h"
#include "ops/internal/core_share.h"

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

namespace {

// Note [Sharing the cores]. max_threads: the count set last, or libgomp's default (the usable
// cores, or OMP_NUM_THREADS); team: what adaptive mode wants the calling threads to use.
struct Adaptive {
  std::atomic<bool> on{std::getenv("OMP_NUM_THREADS") == nullptr};
  std::atomic<int> max_threads{omp_get_max_threads()};
  std::atomic<int> team{omp_get_max_threads()};
  std::atomic<int64_t> next_window_ns{0};
  std::mutex mu;                     // guards the fields below, held by the thread that measures
  bool measurable = true;            // false once the accounting could not be read
  ops::internal::CpuUsage previous;  // the start of the current window (wall 0: none yet)
};
Adaptive& adaptive() {
  static auto* a = new Adaptive();
  return *a;
}
// Built on the loading thread, before main: its defaults are libgomp's top-level ones, not those
// of whichever thread (perhaps inside a parallel region) first runs a kernel.
Adaptive& g_adaptive_at_load = adaptive();

constexpr int64_t kWindowNs = 100'000'000;  // 100 ms
constexpr double kStaleWindowSeconds = 1.0;  // a longer gap (an idle program) starts a new window

int64_t coarse_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no system call
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The team size refresh_team_size() last gave the calling thread (0: none yet). A thread whose
// count differs from it was set by someone else (omp_set_num_threads: the data loader's prefetch
// thread keeps itself serial) and is left alone.
thread_local int tl_team_given = 0;

void note_team_size(int threads) {
  int most = g_most_threads.load();
  while (threads > most && !g_most_threads.compare_exchange_weak(most, threads)) {
  }
}

// Closes the window when it is over: the other processes' busy cores give the next team size.
void measure(Adaptive& a, int64_t now) {
  std::unique_lock<std::mutex> lock(a.mu, std::try_to_lock);
  if (!lock.owns_lock() || now < a.next_window_ns.load(std::memory_order_relaxed)) return;  // another thread is on it
  a.next_window_ns.store(now + kWindowNs, std::memory_order_relaxed);
  ops::internal::CpuUsage usage;
  if (!a.measurable || !ops::internal::read_cpu_usage(&usage)) {
    a.measurable = false;
    return;
  }
  const double window = usage.wall - a.previous.wall;
  if (a.previous.wall > 0 && window > 0 && window < kStaleWindowSeconds) {
    const double others = ((usage.busy - a.previous.busy) - (usage.own - a.previous.own)) / window;
    const int team = ops::internal::next_team_size(a.team.load(), a.max_threads.load(), usage.cores, others);
    a.team.store(team, std::memory_order_relaxed);
    note_team_size(team);
  }
  a.previous = usage;
}

}  // namespace

void set_num_threads(int threads) {
  TG_CHECK(threads >= 1, "set_num_threads: expected >= 1 thread, got ", threads);
  Adaptive& a = adaptive();
  a.on.store(false);
  a.max_threads.store(threads);
  a.team.store(threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  note_team_size(threads);
  tl_team_given = 0;
}

void set_adaptive_threads(bool on) {
  Adaptive& a = adaptive();
  {
    std::lock_guard<std::mutex> lock(a.mu);
    a.previous = {};  // a whole new window before the first decision
  }
  a.team.store(a.max_threads.load());
  a.next_window_ns.store(0);
  a.on.store(on);
  omp_set_num_threads(a.max_threads.load());
  tl_team_given = 0;
}

bool adaptive_threads() { return adaptive().on.load(std::memory_order_relaxed); }

namespace ops {

void refresh_team_size() {
  Adaptive& a = adaptive();
  if (!a.on.load(std::memory_order_relaxed) || omp_in_parallel()) return;
  const int64_t now = coarse_now_ns();
  if (now >= a.next_window_ns.load(std::memory_order_relaxed)) measure(a, now);
  const int current = omp_get_max_threads();
  if (current != (tl_team_given == 0 ? a.max_threads.load(std::memory_order_relaxed) : tl_team_given)) return;
  const int team = a.team.load(std::memory_order_relaxed);
  if (current != team) omp_set_num_threads(team);
  tl_team_given = team;
}

}  // namespace ops

int get_num_threads() { return omp_get_max_threads(); }

void set_deterministic(bool on) { g_deterministic.store(on, std::memory_order_relaxed); }
bool deterministic() { return g_deterministic.load(std::memory_order_relaxed); }

}  // namespace tg
