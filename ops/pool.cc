// tapegrad/ops/pool.cc: pooling kernels, parallel over (N, C) planes.
#include "ops/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ops/parallel.h"

namespace tg::ops {

namespace {

// The divisor PyTorch uses for average pooling of the window starting at (hs, ws).
int64_t avg_divisor(int64_t hs, int64_t ws, int64_t h, int64_t w, const Pool2dParams& p) {
  const int64_t he = std::min(hs + p.kernel_h, h + p.pad_h), we = std::min(ws + p.kernel_w, w + p.pad_w);
  if (p.count_include_pad) return (he - hs) * (we - ws);
  return (std::min(he, h) - std::max<int64_t>(hs, 0)) * (std::min(we, w) - std::max<int64_t>(ws, 0));
}

// One output row of the 2x2/2 max pool from input rows r0 and r1 (flat offsets top and bottom
// within the plane). Window order (r0[2x], r0[2x+1], r1[2x], r1[2x+1]): the first maximum wins and
// a NaN wins (the last NaN, as in the general loop below). Branch-free selects, so the compiler
// vectorizes it, but only in whole vectors: MNIST's 7- and 14-wide output rows would run in the
// scalar remainder, so float rows take the AVX-512 version below where the target has it.
template <bool kIndices, typename T>
void max_pool_2x2_row(const T* r0, const T* r1, int64_t top, int64_t bottom, int64_t ow, T* out, int64_t* index) {
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

// The fastest row kernel for T on this target.
template <bool kIndices, typename T>
void max_pool_2x2_row_fastest(const T* r0, const T* r1, int64_t top, int64_t bottom, int64_t ow, T* out,
                              int64_t* index) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    return max_pool_2x2_row_avx512<kIndices>(r0, r1, top, bottom, ow, out, index);
  }
#endif
  max_pool_2x2_row<kIndices>(r0, r1, top, bottom, ow, out, index);
}

}  // namespace

Shape pool2d_output_shape(const Shape& in, const Pool2dParams& p, const char* op) {
  TG_CHECK(in.size() == 4, op, ": input must be 4-D [N,C,H,W], got ", shape_str(in));
  TG_CHECK(p.kernel_h > 0 && p.kernel_w > 0, op, ": kernel size must be positive, got [", p.kernel_h, ",",
           p.kernel_w, "]");
  TG_CHECK(p.stride_h > 0 && p.stride_w > 0, op, ": stride must be positive, got [", p.stride_h, ",",
           p.stride_w, "]");
  TG_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be non-negative, got [", p.pad_h, ",", p.pad_w,
           "]");
  TG_CHECK(p.pad_h * 2 <= p.kernel_h && p.pad_w * 2 <= p.kernel_w, op, ": padding [", p.pad_h, ",", p.pad_w,
           "] must be at most half the kernel [", p.kernel_h, ",", p.kernel_w, "]");
  const int64_t oh = (in[2] + 2 * p.pad_h - p.kernel_h) / p.stride_h + 1;
  const int64_t ow = (in[3] + 2 * p.pad_w - p.kernel_w) / p.stride_w + 1;
  TG_CHECK(in[2] + 2 * p.pad_h >= p.kernel_h && in[3] + 2 * p.pad_w >= p.kernel_w && oh > 0 && ow > 0, op,
           ": kernel [", p.kernel_h, ",", p.kernel_w, "] is larger than padded input ", shape_str(in));
  return {in[0], in[1], oh, ow};
}

std::pair<Array, Array> max_pool2d(const Array& input_in, const Pool2dParams& p, bool with_indices) {
  const Shape out_shape = pool2d_output_shape(input_in.shape(), p, "max_pool2d");
  refresh_team_size();
  const Array input = input_in.contiguous();
  Array out = Array::empty(out_shape, input.dtype());
  Array indices = with_indices ? Array::empty(out_shape, kInt64) : Array();
  const int64_t planes = out_shape[0] * out_shape[1], h = input.size(2), w = input.size(3);
  const int64_t oh = out_shape[2], ow = out_shape[3];
  dispatch_floating(input.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* ip = input.data<T>();
    T* op = out.data<T>();
    int64_t* xp = with_indices ? indices.data<int64_t>() : nullptr;
    if (p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0) {
      // The common 2x2/2 case: no bounds checks, windows never leave the plane.
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
      for (int64_t pl = 0; pl < planes; ++pl) {
        const T* src = ip + pl * h * w;
        T* o = op + pl * oh * ow;
        int64_t* xi = with_indices ? xp + pl * oh * ow : nullptr;
        for (int64_t y = 0; y < oh; ++y) {
          const T* r0 = src + 2 * y * w;
          const T* r1 = r0 + w;
          const int64_t top = 2 * y * w, bottom = top + w;
          if (with_indices) {
            max_pool_2x2_row_fastest<true>(r0, r1, top, bottom, ow, o + y * ow, xi + y * ow);
          } else {
            max_pool_2x2_row_fastest<false>(r0, r1, top, bottom, ow, o + y * ow, nullptr);
          }
        }
      }
      return;
    }
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T* src = ip + pl * h * w;
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          const int64_t hs = y * p.stride_h - p.pad_h, ws = x * p.stride_w - p.pad_w;
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = std::max<int64_t>(hs, 0) * w + std::max<int64_t>(ws, 0);
          const int64_t i_hi = std::min(hs + p.kernel_h, h), j_lo = std::max<int64_t>(ws, 0),
                        j_hi = std::min(ws + p.kernel_w, w);
          for (int64_t i = std::max<int64_t>(hs, 0); i < i_hi; ++i) {
            const T* row = src + i * w;
            for (int64_t j = j_lo; j < j_hi; ++j) {
              const T v = row[j];
              if (v > best || v != v) {  // NaN propagates, like PyTorch
                best = v;
                best_i = i * w + j;
              }
            }
          }
          op[(pl * oh + y) * ow + x] = best;
          if (xp != nullptr) xp[(pl * oh + y) * ow + x] = best_i;
        }
      }
    }
  });
  return {out, indices};
}

Array max_pool2d_backward(const Array& grad_out_in, const Array& indices_in, const Shape& input_shape) {
  TG_CHECK(grad_out_in.shape() == indices_in.shape() && grad_out_in.dim() == 4 && input_shape.size() == 4 &&
               grad_out_in.size(0) == input_shape[0] && grad_out_in.size(1) == input_shape[1],
           "max_pool2d_backward: gradient ", shape_str(grad_out_in.shape()), " and indices ",
           shape_str(indices_in.shape()), " do not match input ", shape_str(input_shape));
  const Array grad_out = grad_out_in.contiguous(), indices = indices_in.contiguous();
  Array grad_in = Array::empty(input_shape, grad_out.dtype());
  const int64_t planes = input_shape[0] * input_shape[1], plane = input_shape[2] * input_shape[3];
  const int64_t outputs = grad_out.size(2) * grad_out.size(3);
  dispatch_floating(grad_out.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad_out.data<T>();
    const int64_t* ix = indices.data<int64_t>();
    T* d = grad_in.data<T>();
    // Parallel over planes: each plane is zeroed and written by one iteration.
#pragma omp parallel for schedule(static) if (planes * plane >= 32768)
    for (int64_t pl = 0; pl < planes; ++pl) {
      T* dst = d + pl * plane;
      std::fill_n(dst, plane, T(0));
      for (int64_t k = 0; k < outputs; ++k) dst[ix[pl * outputs + k]] += g[pl * outputs + k];
    }
  });
  return grad_in;
}

Array avg_pool2d(const Array& input_in, const Pool2dParams& p) {
  const Shape out_shape = pool2d_output_shape(input_in.shape(), p, "avg_pool2d");
  refresh_team_size();
  const Array input = input_in.contiguous();
  Array out = Array::empty(out_shape, input.dtype());
  const int64_t planes = out_shape[0] * out_shape[1], h = input.size(2), w = input.size(3);
  const int64_t oh = out_shape[2], ow = out_shape[3];
  dispatch_floating(input.dtype(), "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* ip = input.data<T>();
    T* op = out.data<T>();
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T* src = ip + pl * h * w;
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          const int64_t hs = y * p.stride_h - p.pad_h, ws = x * p.stride_w - p.pad_w;
          T s = 0;
          for (int64_t i = std::max<int64_t>(hs, 0); i < std::min(hs + p.kernel_h, h); ++i)
            for (int64_t j = std::max<int64_t>(ws, 0); j < std::min(ws + p.kernel_w, w); ++j) s += src[i * w + j];
          op[(pl * oh + y) * ow + x] = s / static_cast<T>(avg_divisor(hs, ws, h, w, p));
        }
      }
    }
  });
  return out;
}

Array avg_pool2d_backward(const Array& grad_in, const Shape& input_shape, const Pool2dParams& p) {
  const Shape out_shape = pool2d_output_shape(input_shape, p, "avg_pool2d_backward");
  TG_CHECK(grad_in.shape() == out_shape, "avg_pool2d_backward: grad ", shape_str(grad_in.shape()),
           " does not match output ", shape_str(out_shape));
  const Array grad = grad_in.contiguous();
  Array result = Array::zeros(input_shape, grad.dtype());
  const int64_t planes = out_shape[0] * out_shape[1], h = input_shape[2], w = input_shape[3];
  const int64_t oh = out_shape[2], ow = out_shape[3];
  dispatch_floating(grad.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = grad.data<T>();
    T* rp = result.data<T>();
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
    for (int64_t pl = 0; pl < planes; ++pl) {
      T* dst = rp + pl * h * w;
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          const int64_t hs = y * p.stride_h - p.pad_h, ws = x * p.stride_w - p.pad_w;
          const T g = gp[(pl * oh + y) * ow + x] / static_cast<T>(avg_divisor(hs, ws, h, w, p));
          for (int64_t i = std::max<int64_t>(hs, 0); i < std::min(hs + p.kernel_h, h); ++i)
            for (int64_t j = std::max<int64_t>(ws, 0); j < std::min(ws + p.kernel_w, w); ++j) dst[i * w + j] += g;
        }
      }
    }
  });
  return result;
}

}  // namespace tg::ops
