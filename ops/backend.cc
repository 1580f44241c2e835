// tapegrad/ops/backend.cc: the process-wide kernel backend switch.
#include "ops/backend.h"

#include <atomic>

#include "ops/parallel.h"

namespace tg::ops {

namespace {
std::atomic<Backend> g_backend{Backend::kFast};
}  // namespace

void set_backend(Backend b) { g_backend.store(b, std::memory_order_relaxed); }
Backend backend() { return g_backend.load(std::memory_order_relaxed); }

bool use_fast_path(DType dtype) {
  return dtype == kFloat32 && backend() == Backend::kFast && !tg::deterministic();
}

}  // namespace tg::ops
