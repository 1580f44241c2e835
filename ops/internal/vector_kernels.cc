// tapegrad/ops/internal/vector_kernels.cc: the per-ISA vector kernels (vector_kernels.h). This file
// is compiled once per ISA level (-march=x86-64-v2/-v3/-v4, TG_ISA_SUFFIX=baseline/avx2/avx512)
// and defines that level's table; the loops are plain C++ the compiler vectorizes for the level,
// and the max-pool row has an AVX-512 version where the level has it.
#include "ops/internal/vector_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <cstring>
#include <type_traits>

#if defined(__AVX512F__) || TG_ISA_LEVEL >= 1
#include <immintrin.h>
#endif

#include "ops/internal/elementwise_math.h"
#include "ops/internal/sum_loops.h"

#if !defined(TG_ISA_SUFFIX) || !defined(TG_ISA_LEVEL)
#error "vector_kernels.cc is compiled by cc_multi_isa_library, which defines TG_ISA_SUFFIX and TG_ISA_LEVEL"
#endif

#if TG_ISA_LEVEL >= 1
// glibc's libmvec (-lmvec): vector exp and tanh under the x86_64 vector ABI's names, in 32-byte
// vectors for AVX2 ('d': 8 floats, 4 doubles) and 64-byte ones for AVX-512 ('e'); at most 1-4 ulps
// from the exact value (glibc's manual), like the scalar functions the baseline level calls.
extern "C" {
#if TG_ISA_LEVEL >= 2
#define TG_MVEC_FLOAT(fn) __m512 _ZGVeN16v_##fn##f(__m512);
#define TG_MVEC_DOUBLE(fn) __m512d _ZGVeN8v_##fn(__m512d);
#else
#define TG_MVEC_FLOAT(fn) __m256 _ZGVdN8v_##fn##f(__m256);
#define TG_MVEC_DOUBLE(fn) __m256d _ZGVdN4v_##fn(__m256d);
#endif
#define TG_MVEC(fn) TG_MVEC_FLOAT(fn) TG_MVEC_DOUBLE(fn)
TG_MVEC(exp)
TG_MVEC(tanh)
TG_MVEC(log)
TG_MVEC(erf)
TG_MVEC(erfc)
#undef TG_MVEC
#undef TG_MVEC_FLOAT
#undef TG_MVEC_DOUBLE
}
#endif

namespace tg::ops::internal {

namespace {

#if TG_ISA_LEVEL >= 1
constexpr int64_t kVectorBytes = TG_ISA_LEVEL >= 2 ? 64 : 32;
using FloatVec = float __attribute__((vector_size(kVectorBytes)));
using DoubleVec = double __attribute__((vector_size(kVectorBytes)));
template <typename T>
using Vec = std::conditional_t<std::is_same_v<T, float>, FloatVec, DoubleVec>;
template <typename T>
constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(T));

// vector_exp(v), vector_tanh(v)...: the libmvec function of each lane.
#if TG_ISA_LEVEL >= 2
#define TG_VECTOR_FN(fn)                                                                              \
  [[maybe_unused]] FloatVec vector_##fn(FloatVec v) { return (FloatVec)_ZGVeN16v_##fn##f((__m512)v); } \
  [[maybe_unused]] DoubleVec vector_##fn(DoubleVec v) { return (DoubleVec)_ZGVeN8v_##fn((__m512d)v); }
#else
#define TG_VECTOR_FN(fn)                                                                             \
  [[maybe_unused]] FloatVec vector_##fn(FloatVec v) { return (FloatVec)_ZGVdN8v_##fn##f((__m256)v); } \
  [[maybe_unused]] DoubleVec vector_##fn(DoubleVec v) { return (DoubleVec)_ZGVdN4v_##fn((__m256d)v); }
#endif
TG_VECTOR_FN(exp)
TG_VECTOR_FN(tanh)
TG_VECTOR_FN(log)
TG_VECTOR_FN(erf)
TG_VECTOR_FN(erfc)
#undef TG_VECTOR_FN

// stable_sigmoid's formula: exp(-|v|) never overflows; (v >= 0 ? 1 : e) / (1 + e).
template <typename T>
Vec<T> vector_sigmoid(Vec<T> v) {
  const Vec<T> e = vector_exp(v < 0 ? v : -v);
  return (v >= 0 ? Vec<T>{} + T(1) : e) / (T(1) + e);
}

// gelu_of and gelu_derivative_of (internal/elementwise_math.h) a vector at a time.
template <typename T>
Vec<T> vector_gelu(Vec<T> x) {
  return T(0.5) * x * vector_erfc(x * T(-M_SQRT1_2));
}
template <typename T>
Vec<T> vector_gelu_derivative(Vec<T> x) {
  return T(0.5) * vector_erfc(x * T(-M_SQRT1_2)) + x * vector_exp(T(-0.5) * x * x) * T(kInvSqrt2Pi);
}

// out[i] = f(x[i]) a vector at a time; the tail through a zero-padded vector, so that an element
// gets the same function wherever a parallel chunk ends.
template <typename T, typename F>
void map_vectors(const T* x, T* out, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kLanes<T> <= n; i += kLanes<T>) {
    Vec<T> v;
    std::memcpy(&v, x + i, sizeof v);
    v = f(v);
    std::memcpy(out + i, &v, sizeof v);
  }
  if (i < n) {
    Vec<T> v{};
    std::memcpy(&v, x + i, (n - i) * sizeof(T));
    v = f(v);
    std::memcpy(out + i, &v, (n - i) * sizeof(T));
  }
}
#endif

template <typename T>
void unary_loop(UnaryOp op, const T* x, T* out, int64_t n) {
#if TG_ISA_LEVEL >= 1
  // The transcendental functions recurrent cells, attention, GELU and losses spend their time in
  // (perf: scalar tanhf/expm1f were 22 % of mnist_rnn's training, scalar tanh/exp 18 % of
  // time_sequence_prediction's in float64, erff 8.6 % of char_gpt's).
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    switch (op) {
      case UnaryOp::kExp: return map_vectors<T>(x, out, n, [](Vec<T> v) { return vector_exp(v); });
      case UnaryOp::kTanh: return map_vectors<T>(x, out, n, [](Vec<T> v) { return vector_tanh(v); });
      case UnaryOp::kLog: return map_vectors<T>(x, out, n, [](Vec<T> v) { return vector_log(v); });
      case UnaryOp::kErf: return map_vectors<T>(x, out, n, [](Vec<T> v) { return vector_erf(v); });
      case UnaryOp::kSigmoid: return map_vectors<T>(x, out, n, vector_sigmoid<T>);
      case UnaryOp::kGelu: return map_vectors<T>(x, out, n, vector_gelu<T>);
      case UnaryOp::kGeluDerivative: return map_vectors<T>(x, out, n, vector_gelu_derivative<T>);
      default: break;
    }
  }
#endif
  switch (op) {
#define TG_CASE(Name, str, dtype_class, expr)                 \
  case UnaryOp::k##Name:                                      \
    for (int64_t i = 0; i < n; ++i) {                         \
      const T v = x[i];                                       \
      out[i] = static_cast<T>(expr);                          \
    }                                                         \
    return;
    TG_UNARY_OPS(TG_CASE)
#undef TG_CASE
  }
}

template <typename T>
void binary_loop(BinaryOp op, const T* a_in, const T* b_in, T* out, int64_t n) {
  switch (op) {
#define TG_CASE(Name, str, dtype_class, expr)                 \
  case BinaryOp::k##Name:                                     \
    for (int64_t i = 0; i < n; ++i) {                         \
      const T a = a_in[i], b = b_in[i];                       \
      out[i] = static_cast<T>(expr);                          \
    }                                                         \
    return;
    TG_BINARY_OPS(TG_CASE)
#undef TG_CASE
  }
}

// Branch-free selects, so the compiler vectorizes it, but only in whole vectors: MNIST's 7- and
// 14-wide output rows would run in the scalar remainder, so float rows take the AVX-512 version
// below where the level has it.
template <bool kIndices, typename T>
void max_pool_2x2_row_selects(const T* r0, const T* r1, int64_t top, int64_t bottom, int64_t ow, T* out,
                              int64_t* index) {
#pragma omp simd
  for (int64_t x = 0; x < ow; ++x) {
    const int64_t j = 2 * x;
    T best = r0[j];
    int64_t at = top + j;
    const T b = r0[j + 1], c = r1[j], d = r1[j + 1];
    bool take = (b > best) | (b != b);
    best = take ? b : best;
    at = take ? top + j + 1 : at;
    take = (c > best) | (c != c);
    best = take ? c : best;
    at = take ? bottom + j : at;
    take = (d > best) | (d != d);
    best = take ? d : best;
    at = take ? bottom + j + 1 : at;
    out[x] = best;
    if constexpr (kIndices) index[x] = at;
  }
}

#if defined(__AVX512F__)
// The same row for float in chunks of 16 outputs, the ragged last chunk under masks: 32 input
// floats of each row deinterleave into the windows' left and right columns.
template <bool kIndices>
void max_pool_2x2_row_avx512(const float* r0, const float* r1, int64_t top, int64_t bottom, int64_t ow, float* out,
                             int64_t* index) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lane2 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);  // 2 * lane, for the indices
  for (int64_t x = 0; x < ow; x += 16) {
    const int64_t n = std::min<int64_t>(16, ow - x);  // outputs in this chunk
    const __mmask16 out_mask = static_cast<__mmask16>((1u << n) - 1);
    const __mmask16 lo_mask = static_cast<__mmask16>((1u << std::min<int64_t>(2 * n, 16)) - 1);
    const __mmask16 hi_mask = static_cast<__mmask16>((1u << std::max<int64_t>(2 * n - 16, 0)) - 1);
    const float* p0 = r0 + 2 * x;
    const float* p1 = r1 + 2 * x;
    const __m512 top_lo = _mm512_maskz_loadu_ps(lo_mask, p0), top_hi = _mm512_maskz_loadu_ps(hi_mask, p0 + 16);
    const __m512 bot_lo = _mm512_maskz_loadu_ps(lo_mask, p1), bot_hi = _mm512_maskz_loadu_ps(hi_mask, p1 + 16);
    const __m512 a = _mm512_permutex2var_ps(top_lo, even, top_hi), b = _mm512_permutex2var_ps(top_lo, odd, top_hi);
    const __m512 c = _mm512_permutex2var_ps(bot_lo, even, bot_hi), d = _mm512_permutex2var_ps(bot_lo, odd, bot_hi);
    // take v when v > best (ordered) or v is NaN
    const __mmask16 take_b = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
    __m512 best = _mm512_mask_mov_ps(a, take_b, b);
    const __mmask16 take_c = _mm512_cmp_ps_mask(c, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
    best = _mm512_mask_mov_ps(best, take_c, c);
    const __mmask16 take_d = _mm512_cmp_ps_mask(d, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q);
    best = _mm512_mask_mov_ps(best, take_d, d);
    _mm512_mask_storeu_ps(out + x, out_mask, best);
    if constexpr (kIndices) {
      // int64 offsets in two halves of 8 lanes, each lane's window position picked by the masks.
      for (int half = 0; half < 2; ++half) {
        const auto part = [&](__mmask16 m) { return static_cast<__mmask8>(m >> (8 * half)); };
        const __m512i column = _mm512_add_epi64(lane2, _mm512_set1_epi64(2 * x + 16 * half));
        __m512i at = _mm512_add_epi64(column, _mm512_set1_epi64(top));
        at = _mm512_mask_add_epi64(at, part(take_b), at, _mm512_set1_epi64(1));
        const __m512i at_bottom = _mm512_add_epi64(column, _mm512_set1_epi64(bottom));
        at = _mm512_mask_mov_epi64(at, part(take_c), at_bottom);
        at = _mm512_mask_mov_epi64(at, part(take_d), _mm512_add_epi64(at_bottom, _mm512_set1_epi64(1)));
        _mm512_mask_storeu_epi64(index + x + 8 * half, part(out_mask), at);
      }
    }
  }
}
#endif

template <typename T>
void max_pool_2x2_row(const T* r0, const T* r1, int64_t top, int64_t bottom, int64_t ow, T* out, int64_t* index) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    if (index != nullptr) return max_pool_2x2_row_avx512<true>(r0, r1, top, bottom, ow, out, index);
    return max_pool_2x2_row_avx512<false>(r0, r1, top, bottom, ow, out, nullptr);
  }
#endif
  if (index != nullptr) return max_pool_2x2_row_selects<true>(r0, r1, top, bottom, ow, out, index);
  max_pool_2x2_row_selects<false>(r0, r1, top, bottom, ow, out, nullptr);
}

template <typename T>
void softmax_row(bool log, const T* in, T* o, int64_t n) {
#if TG_ISA_LEVEL >= 1
  // A vector at a time (perf: scalar expf was 7 % of an imported transformer's inference): the
  // max and the sum of exp(x - max) in lanes (NaN skipped by the max, as below), exp by libmvec
  // written to o, then o scaled (softmax) or replaced by (x - max) - log(sum) (log_softmax).
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (n >= kLanes<T>) {
      Vec<T> best = Vec<T>{} - std::numeric_limits<T>::infinity();
      int64_t i = 0;
      for (; i + kLanes<T> <= n; i += kLanes<T>) {
        Vec<T> v;
        std::memcpy(&v, in + i, sizeof v);
        best = v > best ? v : best;
      }
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < kLanes<T>; ++k) m = std::max(m, best[k]);
      for (; i < n; ++i) m = std::max(m, in[i]);
      if (!std::isfinite(m)) m = 0;
      map_vectors<T>(in, o, n, [m](Vec<T> v) { return vector_exp(v - m); });
      Vec<T> lanes{};
      for (i = 0; i + kLanes<T> <= n; i += kLanes<T>) {
        Vec<T> v;
        std::memcpy(&v, o + i, sizeof v);
        lanes += v;
      }
      T s = 0;
      for (int64_t k = 0; k < kLanes<T>; ++k) s += lanes[k];
      for (; i < n; ++i) s += o[i];
      if (log) {
        const T log_s = std::log(s);
        for (i = 0; i < n; ++i) o[i] = (in[i] - m) - log_s;
      } else {
        for (i = 0; i < n; ++i) o[i] = o[i] / s;
      }
      return;
    }
  }
#endif
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, in[i]);
  if (!std::isfinite(m)) m = 0;
  T s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(in[i] - m);
  if (log) {
    // (x - max) - log(s), not x - (max + log(s)): adding log(s) to a large max rounds it away.
    const T log_s = std::log(s);
    for (int64_t i = 0; i < n; ++i) o[i] = (in[i] - m) - log_s;
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = std::exp(in[i] - m) / s;
  }
}

template <typename T>
constexpr VectorKernels<T> kernels_of() {
  return {&unary_loop<T>, &binary_loop<T>, &max_pool_2x2_row<T>, &softmax_row<T>,
          &sum_outer_and_inner_range<T, double>};
}

constexpr CpuIsa kIsa = static_cast<CpuIsa>(TG_ISA_LEVEL);

}  // namespace

const VectorKernelTable TG_ISA_VARIANT(vector_kernels) = {kIsa, kernels_of<float>(), kernels_of<double>()};

}  // namespace tg::ops::internal
