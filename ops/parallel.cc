// tapegrad/ops/parallel.cc: thread-count control for OpenMP and OpenBLAS; the deterministic flag.
#include "ops/parallel.h"

#include <omp.h>

#include <atomic>

#include "ops/error.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace tg {

namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_num_threads(int threads) {
  TG_CHECK(threads >= 1, "set_num_threads: expected >= 1 thread, got ", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int get_num_threads() { return omp_get_max_threads(); }

void set_deterministic(bool on) { g_deterministic.store(on, std::memory_order_relaxed); }
bool deterministic() { return g_deterministic.load(std::memory_order_relaxed); }

}  // namespace tg
