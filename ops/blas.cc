// tapegrad/ops/blas.cc: GEMM through OpenBLAS's CBLAS interface or oneDNN (sgemm, matmul), and the
// thread-count independent tiling for deterministic mode (see Note [Determinism across thread
// counts] in ops/parallel.h).
//
// Note [Which float32 GEMM library]: oneDNN's sgemm (the JIT kernels behind PyTorch's inner
// products) beats OpenBLAS 0.3.21 on the AVX-512 machines measured for every product whose B is
// not transposed; when B is transposed (x @ W^T, a linear layer's forward) oneDNN's matmul
// primitive (brgemm kernels; it has to be built per shape, so it is cached) beats both. Measured
// with 2 threads, GFLOP/s OpenBLAS / oneDNN sgemm / oneDNN matmul, [M,K]@[K,N], on a Xeon:
// linear backward-data 50x1024 @ 1024x3136 147 / 196 / -, 64x512 @ 512x1024 127 / 176 / -;
// backward-weights (A transposed) 1024x50 @ 50x3136 174 / 180 / -, 512x64 @ 64x1024 90 / 181 / -;
// 256^3 103 / 203 / -; forward 50x3136 @ (1024x3136)^T 148 / 126 / 175, 64x1024 @ (512x1024)^T
// 98 / 64 / 189, 1000x3136 @ (1024x3136)^T 199 / - / 213, 50x1024 @ (32x1024)^T 45 / - / 134; so
// the matmul primitive takes M, N >= 32. On an AMD EPYC (Zen 4, 2026-12-07, `bazel run -c opt
// //bench:gemm_routes -- --threads=2`, which times these products on each library) OpenBLAS runs
// its Haswell kernels and trails everywhere (2048^3: 200 vs 389), and for the products the matmul
// primitive does not take, a classifier head's forward 50x1024 @ (10x1024)^T and 50x1568 @
// (10x1568)^T, oneDNN's sgemm gives 66 / 74 against OpenBLAS's 24 (on the Xeon OpenBLAS had 103
// against the matmul primitive's 78). They stay on OpenBLAS all the same: routed to oneDNN's
// sgemm, io/model_file_test's LSTM classifier no longer gives the same bits eager and reloaded at
// batch 5 (likely because the two split its small products differently and oneDNN's sgemm need
// not round a row alike for every M; not traced further), and those products are a few
// microseconds of a step (cnn_wide's fc2 forward: 46 us of ~15 ms). So: untransposed B -> oneDNN
// sgemm; transposed B with M, N >= 32, alpha 1, beta 0 -> the matmul primitive; the rest, float64
// and deterministic mode -> OpenBLAS; a product with one row or column is a GEMV (Note [Batch-1
// products]).
#include "ops/blas.h"

#include <cblas.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "oneapi/dnnl/dnnl.h"
#include "ops/error.h"
#include "ops/internal/onednn_matmul.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

CBLAS_TRANSPOSE t(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Deterministic mode cuts the work by shape alone, never by thread count: C into fixed tiles, or,
// when C has few tiles and K is long (weight gradients: [32,400] summed over 9,800 columns), K into
// fixed chunks whose partial products are added in order. Inside the OpenMP region OpenBLAS (its
// OpenMP build) runs each call on the calling thread alone.
constexpr int64_t kTileM = 128, kTileN = 512, kChunkK = 2048;

int64_t tiles_of(int64_t size, int64_t tile) { return (size + tile - 1) / tile; }

template <typename T>
void gemm_tiles(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t tiles_m = tiles_of(m, kTileM), tiles_n = tiles_of(n, kTileN);
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < tiles_m * tiles_n; ++tile) {
    const int64_t i0 = (tile / tiles_n) * kTileM, j0 = (tile % tiles_n) * kTileN;
    const int64_t mm = std::min(kTileM, m - i0), nn = std::min(kTileN, n - j0);
    const T* a_rows = ta ? a + i0 : a + i0 * lda;  // rows i0.. of op(A)
    const T* b_cols = tb ? b + j0 * ldb : b + j0;  // columns j0.. of op(B)
    blas(ta, tb, mm, nn, k, alpha, a_rows, lda, b_cols, ldb, beta, c + i0 * ldc + j0, ldc);
  }
}

template <typename T>
void gemm_split_k(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                  const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t chunks = tiles_of(k, kChunkK);
  std::vector<T> partial(chunks * m * n);
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < chunks; ++q) {
    const int64_t k0 = q * kChunkK, kk = std::min(kChunkK, k - k0);
    const T* a_cols = ta ? a + k0 * lda : a + k0;  // columns k0.. of op(A)
    const T* b_rows = tb ? b + k0 : b + k0 * ldb;  // rows k0.. of op(B)
    blas(ta, tb, m, n, kk, alpha, a_cols, lda, b_rows, ldb, T(0), partial.data() + q * m * n, n);
  }
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      T sum = beta == T(0) ? T(0) : beta * row[j];  // beta 0: C may hold garbage, even NaN
      for (int64_t q = 0; q < chunks; ++q) sum += partial[(q * m + i) * n + j];
      row[j] = sum;
    }
  }
}

void gemv(bool trans, int64_t rows, int64_t cols, float alpha, const float* a, int64_t lda, const float* x,
          int64_t incx, float beta, float* y, int64_t incy) {
  cblas_sgemv(CblasRowMajor, t(trans), rows, cols, alpha, a, lda, x, incx, beta, y, incy);
}
void gemv(bool trans, int64_t rows, int64_t cols, double alpha, const double* a, int64_t lda, const double* x,
          int64_t incx, double beta, double* y, int64_t incy) {
  cblas_dgemv(CblasRowMajor, t(trans), rows, cols, alpha, a, lda, x, incx, beta, y, incy);
}

// Note [Batch-1 products]: a product with one row (a batch-1 linear layer, a recurrent step) or
// one column is a matrix-vector product: GEMM packs the whole matrix first (OpenBLAS's
// sgemm_incopy was 15 % of a batch-1 LSTM, the 1 MiB recurrent weight packed at every step),
// GEMV streams it once.
template <typename T>
bool vector_product(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                    int64_t ldb, T beta, T* c, int64_t ldc) {
  if (k == 0) return false;
  if (beta == T(0)) {  // C may hold garbage, even NaN, which a BLAS may scale by 0 rather than overwrite
    if (m == 1) std::fill(c, c + n, T(0));
    else if (n == 1) for (int64_t i = 0; i < m; ++i) c[i * ldc] = T(0);
  }
  if (m == 1) {  // c[1, n] = a[1, k] op(B): y = op(B)^T a, B stored [n, k] (tb) or [k, n]
    if (tb) gemv(false, n, k, alpha, b, ldb, a, ta ? lda : 1, beta, c, 1);
    else gemv(true, k, n, alpha, b, ldb, a, ta ? lda : 1, beta, c, 1);
    return true;
  }
  if (n == 1) {  // c[m, 1] = op(A) b: A stored [m, k] or [k, m] (ta)
    if (ta) gemv(true, k, m, alpha, a, lda, b, tb ? 1 : ldb, beta, c, ldc);
    else gemv(false, m, k, alpha, a, lda, b, tb ? 1 : ldb, beta, c, ldc);
    return true;
  }
  return false;
}

// The fastest library for this product (Note [Which float32 GEMM library]); multi-threaded.
void fastest(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
             const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (vector_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  if (k > 0 && !tb) {
    const dnnl_status_t status = dnnl_sgemm(ta ? 'T' : 'N', 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    TG_CHECK(status == dnnl_success, "gemm: oneDNN sgemm failed with status ", static_cast<int>(status), " for M=",
             m, " N=", n, " K=", k, " lda=", lda, " ldb=", ldb, " ldc=", ldc);
    return;
  }
  if (k > 0 && m >= 32 && n >= 32 && alpha == 1 && beta == 0 &&
      onednn::matmul(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)) {
    return;
  }
  blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);  // also k == 0: C = beta C
}
void fastest(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
             const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (vector_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void gemm_impl(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
               int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  refresh_team_size();
  if (!deterministic()) {
    fastest(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else if (tiles_of(m, kTileM) * tiles_of(n, kTileN) < 4 && k > 2 * kChunkK) {
    gemm_split_k(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    gemm_tiles(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace

template <typename T>
struct RepeatedGemm<T>::Packed : onednn::PackedMatmul {
  using PackedMatmul::PackedMatmul;
};

template <typename T>
RepeatedGemm<T>::RepeatedGemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                              T* c, int64_t ldc)
    : m_(m), n_(n), k_(k), lda_(lda), ldb_(ldb), ldc_(ldc), a_(a), b_(b), c_(c) {
  // The shapes the matmul primitive takes in fastest() (Note [Which float32 GEMM library]).
  if constexpr (std::is_same_v<T, float>) {
    if (!deterministic() && m >= 32 && n >= 32 && k > 0)
      packed_ = std::make_unique<Packed>(m, n, k, a, lda, b, ldb, c, ldc);
  }
}

template <typename T>
RepeatedGemm<T>::~RepeatedGemm() = default;

template <typename T>
void RepeatedGemm<T>::run() {
  if (packed_) packed_->run();
  else gemm(false, true, m_, n_, k_, T(1), a_, lda_, b_, ldb_, T(0), c_, ldc_);
}

template class RepeatedGemm<float>;
template class RepeatedGemm<double>;

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace tg::ops
