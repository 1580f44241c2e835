// tapegrad/ops/blas.h: row-major GEMM behind every matmul and convolution:
//   C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C.  float32 and float64.
#pragma once

#include <cstdint>

namespace tg::ops {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

// How many float32 products have a cached oneDNN matmul primitive (at most 256; for tests).
int64_t fast_matmul_primitives_built();

}  // namespace tg::ops
