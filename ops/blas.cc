// tapegrad/ops/blas.cc: GEMM through OpenBLAS's CBLAS interface.
#include "ops/blas.h"

#include <cblas.h>

namespace tg::ops {

namespace {
CBLAS_TRANSPOSE t(bool trans) { return trans ? CblasTrans : CblasNoTrans; }
}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace tg::ops
