// tapegrad/ops/backend.h: which kernels run. The fast path (oneDNN primitives for float32
// convolution) is the default; the reference path (im2col + BLAS, any dtype and stride) is what
// the fast path is tested against, and what float64, gradcheck and deterministic mode use.
//   tg::ops::BackendGuard reference(tg::ops::Backend::kReference);  // in tests
#pragma once

#include "ops/dtype.h"

namespace tg::ops {

enum class Backend { kFast, kReference };

void set_backend(Backend backend);
Backend backend();

// True when a float32 kernel may take the fast path: the fast backend is selected and
// deterministic mode is off (oneDNN splits reductions by thread count).
bool use_fast_path(DType dtype);

// Selects a backend for the guard's lifetime (process-wide; for tests and benchmarks).
class BackendGuard {
 public:
  explicit BackendGuard(Backend backend) : previous_(ops::backend()) { set_backend(backend); }
  ~BackendGuard() { set_backend(previous_); }
  BackendGuard(const BackendGuard&) = delete;
  BackendGuard& operator=(const BackendGuard&) = delete;

 private:
  Backend previous_;
};

}  // namespace tg::ops
