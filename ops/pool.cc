// tapegrad/ops/pool.cc: pooling kernels, parallel over (N, C) planes (max pooling of channels-last
// input: over output rows, vectorized across the channels).
#include "ops/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

// The divisor PyTorch uses for average pooling of the window starting at (hs, ws).
int64_t avg_divisor(int64_t hs, int64_t ws, int64_t h, int64_t w, const Pool2dParams& p) {
  if (p.divisor_override != 0) return p.divisor_override;
  const int64_t he = std::min(hs + p.kernel_h, h + p.pad_h), we = std::min(ws + p.kernel_w, w + p.pad_w);
  if (p.count_include_pad) return (he - hs) * (we - ws);
  return (std::min(he, h) - std::max<int64_t>(hs, 0)) * (std::min(we, w) - std::max<int64_t>(ws, 0));
}

// PyTorch's pooling_output_shape: floor or ceil; a ceil-mode window must start inside the input
// or its left padding.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  if (span < 0) return 0;
  int64_t out = span / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// A max-pool window's taps inside the plane: rows hs, hs + dilation, ... below he, columns ws, ...
// below we (PyTorch's first in-plane tap is the index reported for an all -inf window).
struct Taps {
  int64_t hs, he, ws, we;
};
Taps max_pool_taps(const Pool2dParams& p, int64_t y, int64_t x, int64_t h, int64_t w) {
  Taps t{y * p.stride_h - p.pad_h, 0, x * p.stride_w - p.pad_w, 0};
  t.he = std::min(t.hs + (p.kernel_h - 1) * p.dilation_h + 1, h);
  t.we = std::min(t.ws + (p.kernel_w - 1) * p.dilation_w + 1, w);
  while (t.hs < 0) t.hs += p.dilation_h;
  while (t.ws < 0) t.ws += p.dilation_w;
  return t;
}

// The common 2x2 window of stride 2, no padding or dilation, whose windows never leave the plane.
bool plain_2x2(const Pool2dParams& p, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  return p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 &&
         p.dilation_h == 1 && p.dilation_w == 1 && 2 * oh <= h && 2 * ow <= w;
}

// Note [Channels-last max pooling]: an [N, C, H, W] input stored channels last (NHWC) is pooled
// as it lies, into a channels-last output and indices, as PyTorch does: each output pixel's C
// maxima come from its window's taps, each tap a run of C values, so the inner loop runs over the
// channels and vectorizes whatever the window. Taps are visited in the NCHW loop's order and take
// over on the same rule (greater, or NaN), so values and indices (still i * W + j within the
// channel's plane) match the NCHW kernel's. input, out and indices (undefined: none) are dense
// channels-last arrays.
template <typename T>
void max_pool2d_channels_last(const Array& input, const Pool2dParams& p, Array& out, Array& indices) {
  const int64_t n = out.size(0), c = out.size(1), h = input.size(2), w = input.size(3);
  const int64_t oh = out.size(2), ow = out.size(3);
  const T* ip = input.data<T>();
  T* op = out.data<T>();
  int64_t* xp = indices.defined() ? indices.data<int64_t>() : nullptr;
  const bool two_by_two = plain_2x2(p, h, w, oh, ow);
#pragma omp parallel for schedule(static) if (n * h * w * c >= 32768)
  for (int64_t row = 0; row < n * oh; ++row) {  // one output row (image, y) per iteration
    const int64_t b = row / oh, y = row % oh;
    const T* image = ip + b * h * w * c;
    if (two_by_two) {  // the common case in one pass per pixel: its four taps, no bounds
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t at00 = 2 * y * w + 2 * x, at01 = at00 + 1, at10 = at00 + w, at11 = at10 + 1;
        const T *t00 = image + at00 * c, *t01 = image + at01 * c, *t10 = image + at10 * c, *t11 = image + at11 * c;
        T* best = op + (row * ow + x) * c;
        int64_t* best_i = xp != nullptr ? xp + (row * ow + x) * c : nullptr;
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) {
          T v = t00[k];
          int64_t at = at00;
          bool take = t01[k] > v || t01[k] != t01[k];
          v = take ? t01[k] : v;
          at = take ? at01 : at;
          take = t10[k] > v || t10[k] != t10[k];
          v = take ? t10[k] : v;
          at = take ? at10 : at;
          take = t11[k] > v || t11[k] != t11[k];
          v = take ? t11[k] : v;
          at = take ? at11 : at;
          best[k] = v;
          if (best_i != nullptr) best_i[k] = at;
        }
      }
      continue;
    }
    for (int64_t x = 0; x < ow; ++x) {
      const auto [hs, he, ws, we] = max_pool_taps(p, y, x, h, w);
      T* best = op + (row * ow + x) * c;
      int64_t* best_i = xp != nullptr ? xp + (row * ow + x) * c : nullptr;
      std::fill_n(best, c, -std::numeric_limits<T>::infinity());
      if (best_i != nullptr) std::fill_n(best_i, c, hs * w + ws);
      for (int64_t i = hs; i < he; i += p.dilation_h) {
        for (int64_t j = ws; j < we; j += p.dilation_w) {
          const T* v = image + (i * w + j) * c;
          const int64_t at = i * w + j;
          if (best_i == nullptr) {
#pragma omp simd
            for (int64_t k = 0; k < c; ++k) best[k] = (v[k] > best[k] || v[k] != v[k]) ? v[k] : best[k];
          } else {
#pragma omp simd
            for (int64_t k = 0; k < c; ++k) {
              const bool take = v[k] > best[k] || v[k] != v[k];
              best[k] = take ? v[k] : best[k];
              best_i[k] = take ? at : best_i[k];
            }
          }
        }
      }
    }
  }
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
  TG_CHECK(p.dilation_h > 0 && p.dilation_w > 0, op, ": dilation must be positive, got [", p.dilation_h, ",",
           p.dilation_w, "]");
  TG_CHECK(p.divisor_override >= 0, op, ": divisor_override must be positive, got ", p.divisor_override);
  const int64_t oh = pooled_size(in[2], p.kernel_h, p.pad_h, p.stride_h, p.dilation_h, p.ceil_mode);
  const int64_t ow = pooled_size(in[3], p.kernel_w, p.pad_w, p.stride_w, p.dilation_w, p.ceil_mode);
  TG_CHECK(oh > 0 && ow > 0, op, ": kernel [", p.kernel_h, ",", p.kernel_w, "] (dilation [", p.dilation_h, ",",
           p.dilation_w, "]) is larger than padded input ", shape_str(in));
  return {in[0], in[1], oh, ow};
}

std::pair<Array, Array> max_pool2d(const Array& input_in, const Pool2dParams& p, bool with_indices) {
  const Shape out_shape = pool2d_output_shape(input_in.shape(), p, "max_pool2d");
  refresh_team_size();
  // The input's layout, kept by the output and indices (Note [Channels-last max pooling]).
  const MemoryFormat format = is_channels_last(input_in) ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  const Array input = input_in.contiguous(format);
  Array out = Array::empty(out_shape, input.dtype(), format);
  Array indices = with_indices ? Array::empty(out_shape, kInt64, format) : Array();
  const int64_t planes = out_shape[0] * out_shape[1], h = input.size(2), w = input.size(3);
  const int64_t oh = out_shape[2], ow = out_shape[3];
  dispatch_floating(input.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    if (format == MemoryFormat::ChannelsLast) return max_pool2d_channels_last<T>(input, p, out, indices);
    const T* ip = input.data<T>();
    T* op = out.data<T>();
    int64_t* xp = with_indices ? indices.data<int64_t>() : nullptr;
    if (plain_2x2(p, h, w, oh, ow)) {
      // The common 2x2/2 case: no bounds checks; the row kernel of this CPU's ISA level.
      const auto row_kernel = internal::vector_kernels<T>().max_pool_2x2_row;
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
      for (int64_t pl = 0; pl < planes; ++pl) {
        const T* src = ip + pl * h * w;
        T* o = op + pl * oh * ow;
        int64_t* xi = with_indices ? xp + pl * oh * ow : nullptr;
        for (int64_t y = 0; y < oh; ++y) {
          const T* r0 = src + 2 * y * w;
          const T* r1 = r0 + w;
          const int64_t top = 2 * y * w, bottom = top + w;
          row_kernel(r0, r1, top, bottom, ow, o + y * ow, with_indices ? xi + y * ow : nullptr);
        }
      }
      return;
    }
#pragma omp parallel for schedule(static) if (planes * h * w >= 32768)
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T* src = ip + pl * h * w;
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          const auto [hs, he, ws, we] = max_pool_taps(p, y, x, h, w);
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = hs * w + ws;
          for (int64_t i = hs; i < he; i += p.dilation_h) {
            const T* row = src + i * w;
            for (int64_t j = ws; j < we; j += p.dilation_w) {
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
  // The layout of the forward's output, which its indices keep (Note [Channels-last max pooling]).
  const MemoryFormat format = indices_in.suggest_memory_format();
  const Array grad_out = grad_out_in.contiguous(format), indices = indices_in.contiguous(format);
  Array grad_in = Array::empty(input_shape, grad_out.dtype(), format);
  const int64_t planes = input_shape[0] * input_shape[1], plane = input_shape[2] * input_shape[3];
  const int64_t outputs = grad_out.size(2) * grad_out.size(3);
  dispatch_floating(grad_out.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad_out.data<T>();
    const int64_t* ix = indices.data<int64_t>();
    T* d = grad_in.data<T>();
    if (format == MemoryFormat::ChannelsLast) {
      // Parallel over images: each image's [H, W, C] block is zeroed and written by one iteration.
      const int64_t n = input_shape[0], c = input_shape[1];
#pragma omp parallel for schedule(static) if (planes * plane >= 32768)
      for (int64_t b = 0; b < n; ++b) {
        T* dst = d + b * plane * c;
        std::fill_n(dst, plane * c, T(0));
        for (int64_t o = 0; o < outputs; ++o) {
          const int64_t* at = ix + (b * outputs + o) * c;
          const T* go = g + (b * outputs + o) * c;
          for (int64_t k = 0; k < c; ++k) dst[at[k] * c + k] += go[k];
        }
      }
      return;
    }
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
          const int64_t divisor = avg_divisor(hs, ws, h, w, p);
          op[(pl * oh + y) * ow + x] = divisor > 0 ? s / static_cast<T>(divisor) : T(0);  // an empty window: 0
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
          const int64_t divisor = avg_divisor(hs, ws, h, w, p);
          if (divisor <= 0) continue;  // an empty window
          const T g = gp[(pl * oh + y) * ow + x] / static_cast<T>(divisor);
          for (int64_t i = std::max<int64_t>(hs, 0); i < std::min(hs + p.kernel_h, h); ++i)
            for (int64_t j = std::max<int64_t>(ws, 0); j < std::min(ws + p.kernel_w, w); ++j) dst[i * w + j] += g;
        }
      }
    }
  });
  return result;
}

}  // namespace tg::ops
