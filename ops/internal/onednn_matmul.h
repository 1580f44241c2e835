// tapegrad/ops/internal/onednn_matmul.h: float32 C = op(A) @ op(B) (alpha 1, beta 0) as a oneDNN
// matmul primitive, cached by shape, leading dimensions and thread count. Called only by
// ops/blas.cc for the products it measured faster there (Note [Which float32 GEMM library]).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/array.h"

namespace tg::ops::onednn {

// Row-major operands as in ops::gemm. False, leaving C alone, when the cache of built primitives
// is full and this shape is not in it (the caller then uses another library).
bool matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
            const float* b, int64_t ldb, float* c, int64_t ldc);

// C[m, n] = A[m, k] B^T for B [n, k], with B reordered once into the layout the primitive
// chooses and A, B's copy and C bound once (Note [Repeated products] in ops/blas.h). For the
// calling thread's use (its stream).
class PackedMatmul {
 public:
  PackedMatmul(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
               int64_t ldc);
  void run();

 private:
  dnnl::matmul primitive_;
  Array packed_b_, scratch_;
  std::unordered_map<int, dnnl::memory> args_;
};

}  // namespace tg::ops::onednn
