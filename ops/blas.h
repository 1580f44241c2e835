// tapegrad/ops/blas.h: row-major GEMM behind every matmul and convolution:
//   C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C.  float32 and float64.
#pragma once

#include <cstdint>
#include <memory>

namespace tg::ops {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

// Note [Repeated products]: C = A B^T, A [m, k] and B [n, k] row-major, computed many times with
// the same operands (the same buffers; what A holds changes between calls, B does not), as an
// LSTM thread's gates are at every step (Note [LSTM layer by units] in ops/lstm_layer.cc). Where
// a kernel wants B in its own layout (float32 with m, n >= 32: oneDNN's matmul primitive, which
// otherwise copies a transposed B into that layout at every call) B is reordered once at
// construction and the operands are bound once, so run() is the kernel alone; otherwise run() is
// ops::gemm. B must not change while the object lives.
template <typename T>
class RepeatedGemm {
 public:
  RepeatedGemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
               int64_t ldc);
  ~RepeatedGemm();
  RepeatedGemm(const RepeatedGemm&) = delete;
  RepeatedGemm& operator=(const RepeatedGemm&) = delete;
  void run();  // C = A B^T

 private:
  struct Packed;  // oneDNN's primitive, B's copy and the bound operands
  int64_t m_, n_, k_, lda_, ldb_, ldc_;
  const T *a_, *b_;
  T* c_;
  std::unique_ptr<Packed> packed_;
};

// How many float32 products have a cached oneDNN matmul primitive (at most 256; for tests).
int64_t fast_matmul_primitives_built();

}  // namespace tg::ops
