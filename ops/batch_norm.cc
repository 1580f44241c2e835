// tapegrad/ops/batch_norm.cc: batch-norm kernels, parallel over channels.
#include "ops/batch_norm.h"

#include <algorithm>
#include <vector>

#include "ops/internal/channel_kernels.h"
#include "ops/internal/row_blocks.h"

namespace tg::ops {

namespace {
// [N, C, *] -> (N, C, L) with L the product of the trailing dims.
void dims_of(const Array& x, int64_t* n, int64_t* c, int64_t* l) {
  TG_CHECK(x.dim() >= 2, "batch_norm: input must be [N, C, *], got ", shape_str(x.shape()));
  *n = x.size(0);
  *c = x.size(1);
  *l = 1;
  for (int64_t d = 2; d < x.dim(); ++d) *l *= x.size(d);
}
// Row reductions in 8 float lanes (which the compiler vectorizes), each row's total added into a
// double: sum(f(j)) over a row of l values.
template <typename T, typename F>
double lane_sum(int64_t l, F&& f) {
  T acc[8] = {};
  int64_t j = 0;
  for (; j + 8 <= l; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += f(j + k);
  double total = 0;
  for (int k = 0; k < 8; ++k) total += acc[k];
  for (; j < l; ++j) total += f(j);
  return total;
}

// Channels-last input (Note [Channels last] in ops/array.cc) is [M = N*H*W rows, C] in memory,
// so the per-channel loops run along rows. Its sums go through fixed blocks of rows (each block
// summed in T, its totals added into double in block order), so results do not depend on the
// thread count.
constexpr int64_t kRowsPerBlock = 64;

// The row blocks of [m, c] rows at this block size (ops/internal/row_blocks.h): their count, and
// run(b, r0, rows) for each block b, in parallel.
int64_t row_blocks(int64_t m) { return internal::row_blocks(m, kRowsPerBlock); }
template <typename F>
void for_row_blocks(int64_t m, int64_t c, F run) {
  internal::for_row_blocks(m, c, kRowsPerBlock, run);
}

// Per channel ch, over the [m, c] rows: (sum of u, sum of u * v) with u = a - a_shift (a_shift
// null: 0) and v = x - x_shift, as 2*c doubles, the first sums then the second
// (ChannelKernels::sums, vectorized across channels).
template <typename T>
std::vector<double> channel_sum_pairs(const T* a, const T* a_shift, const T* x, const T* x_shift, int64_t m,
                                      int64_t c) {
  const auto& kernels = internal::channel_kernels<T>();
  std::vector<T> partial(static_cast<size_t>(row_blocks(m) * 2 * c), T(0));
  for_row_blocks(m, c, [&](int64_t b, int64_t r0, int64_t rows) {
    T* first = partial.data() + b * 2 * c;
    kernels.sums(a + r0 * c, a_shift, x + r0 * c, x_shift, rows, c, first, first + c);
  });
  std::vector<double> total(static_cast<size_t>(2 * c), 0.0);
  for (int64_t b = 0; b < row_blocks(m); ++b)
    for (int64_t i = 0; i < 2 * c; ++i) total[i] += static_cast<double>(partial[b * 2 * c + i]);
  return total;
}

// Batch statistics of channels-last x: sums shifted by the first row (the deviations from a
// sample are small next to a large mean), var = E[(x - k)^2] - (E[x - k])^2.
template <typename T>
void channels_last_stats(const T* p, int64_t m, int64_t c, T* mean, T* var) {
  const std::vector<T> k(p, p + c);
  const std::vector<double> sums = channel_sum_pairs<T>(p, k.data(), p, k.data(), m, c);
  for (int64_t ch = 0; ch < c; ++ch) {
    const double shift = sums[ch] / static_cast<double>(m);
    mean[ch] = static_cast<T>(static_cast<double>(k[ch]) + shift);
    var[ch] = static_cast<T>(std::max(0.0, sums[c + ch] / static_cast<double>(m) - shift * shift));
  }
}

}  // namespace

std::pair<Array, Array> batch_norm_stats(const Array& x_in) {
  int64_t n, c, l;
  dims_of(x_in, &n, &c, &l);
  if (is_channels_last(x_in) && x_in.numel() > 0) {
    Array mean = Array::empty({c}, x_in.dtype()), var = Array::empty({c}, x_in.dtype());
    dispatch_floating(x_in.dtype(), "batch_norm", [&](auto tag) {
      using T = decltype(tag);
      channels_last_stats<T>(x_in.data<T>(), n * l, c, mean.data<T>(), var.data<T>());
    });
    return {mean, var};
  }
  const Array x = x_in.contiguous();
  Array mean = Array::empty({c}, x.dtype()), var = Array::empty({c}, x.dtype());
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    const double count = static_cast<double>(n * l);
#pragma omp parallel for schedule(static) if (x.numel() >= 32768)
    for (int64_t ch = 0; ch < c; ++ch) {
      // One pass over memory: each row's mean and centred sum of squares (its second read comes
      // from L1), merged into the channel's in double by Chan et al.'s pairwise formula.
      double m = 0, m2 = 0, seen = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* row = p + (i * c + ch) * l;
        const double row_mean = lane_sum<T>(l, [&](int64_t j) { return row[j]; }) / static_cast<double>(l);
        // Centred on the row mean rounded to T (the deviations are small next to it); the
        // rounding d shifts the centre: sum((x - mean)^2) = sum((x - mean_T)^2) - l d^2.
        const T centre = static_cast<T>(row_mean);
        const double d = static_cast<double>(centre) - row_mean;
        const double row_m2 = lane_sum<T>(l, [&](int64_t j) { return (row[j] - centre) * (row[j] - centre); }) -
                              static_cast<double>(l) * d * d;
        const double total = seen + static_cast<double>(l), delta = row_mean - m;
        m += delta * static_cast<double>(l) / total;
        m2 += row_m2 + delta * delta * seen * static_cast<double>(l) / total;
        seen = total;
      }
      mean.data<T>()[ch] = static_cast<T>(m);
      var.data<T>()[ch] = static_cast<T>(m2 / count);
    }
  });
  return {mean, var};
}

Array batch_norm_apply(const Array& x_in, const Array& mean, const Array& invstd, const Array& weight,
                       const Array& bias) {
  int64_t n, c, l;
  dims_of(x_in, &n, &c, &l);
  const Array x = x_in.contiguous(MemoryFormat::Preserve);
  Array out = empty_like(x);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const Array m = mean.contiguous(), is = invstd.contiguous();
    const Array w = weight.defined() ? weight.contiguous() : Array();
    const Array b = bias.defined() ? bias.contiguous() : Array();
    const T* p = x.data<T>();
    T* o = out.data<T>();
    if (is_channels_last(x)) {
      std::vector<T> scale(c), shift(c);
      for (int64_t ch = 0; ch < c; ++ch) {
        scale[ch] = is.data<T>()[ch] * (w.defined() ? w.data<T>()[ch] : T(1));
        shift[ch] = (b.defined() ? b.data<T>()[ch] : T(0)) - m.data<T>()[ch] * scale[ch];
      }
      const auto& kernels = internal::channel_kernels<T>();
      for_row_blocks(n * l, c, [&](int64_t, int64_t r0, int64_t rows) {
        kernels.affine(p + r0 * c, scale.data(), shift.data(), rows, c, o + r0 * c);
      });
      return;
    }
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() >= 32768)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const T scale = is.data<T>()[ch] * (w.defined() ? w.data<T>()[ch] : T(1));
        const T shift = (b.defined() ? b.data<T>()[ch] : T(0)) - m.data<T>()[ch] * scale;
        const T* row = p + (i * c + ch) * l;
        T* orow = o + (i * c + ch) * l;
        for (int64_t j = 0; j < l; ++j) orow[j] = row[j] * scale + shift;
      }
    }
  });
  return out;
}


BatchNormGrads batch_norm_backward(const Array& grad_in, const Array& x_in, const Array& mean_in, const Array& invstd_in,
                                   const Array& weight_in, bool training, bool need_input, bool need_weight,
                                   bool need_bias) {
  int64_t n, c, l;
  dims_of(x_in, &n, &c, &l);
  TG_CHECK(grad_in.shape() == x_in.shape() && grad_in.dtype() == x_in.dtype(), "batch_norm backward: gradient ",
           shape_str(grad_in.shape()), " ", dtype_name(grad_in.dtype()), " does not match input ",
           shape_str(x_in.shape()), " ", dtype_name(x_in.dtype()));
  // Channels-last input gets a channels-last gradient (whatever the incoming gradient's order).
  const bool last = is_channels_last(x_in);
  const Array x = x_in.contiguous(MemoryFormat::Preserve),
              g = grad_in.contiguous(last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous);
  BatchNormGrads out;
  dispatch_floating(x.dtype(), "batch_norm backward", [&](auto tag) {
    using T = decltype(tag);
    const Array mean_a = mean_in.to(x.dtype()).contiguous(), invstd_a = invstd_in.to(x.dtype()).contiguous();
    const Array w_a = weight_in.defined() ? weight_in.contiguous() : Array();
    const T *xp = x.data<T>(), *gp = g.data<T>(), *mean = mean_a.data<T>(), *invstd = invstd_a.data<T>();
    const T* w = w_a.defined() ? w_a.data<T>() : nullptr;
    // Pass 1, per channel: sum(g) and sum(g * (x - mean)).
    std::vector<double> sum_g(c, 0.0), sum_gx(c, 0.0);
    const bool need_sums = need_weight || need_bias || (need_input && training);
    if (need_sums && last) {
      const std::vector<double> sums = channel_sum_pairs<T>(gp, nullptr, xp, mean, n * l, c);
      std::copy(sums.begin(), sums.begin() + c, sum_g.begin());
      std::copy(sums.begin() + c, sums.end(), sum_gx.begin());
    } else if (need_sums) {
#pragma omp parallel for schedule(static) if (x.numel() >= 32768)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < n; ++i) {
          const T *gr = gp + (i * c + ch) * l, *xr = xp + (i * c + ch) * l, m = mean[ch];
          sum_g[ch] += lane_sum<T>(l, [&](int64_t j) { return gr[j]; });
          sum_gx[ch] += lane_sum<T>(l, [&](int64_t j) { return gr[j] * (xr[j] - m); });
        }
    }
    if (need_weight) {
      out.weight = Array::empty({c}, x.dtype());
      for (int64_t ch = 0; ch < c; ++ch) out.weight.data<T>()[ch] = static_cast<T>(sum_gx[ch] * invstd[ch]);
    }
    if (need_bias) {
      out.bias = Array::empty({c}, x.dtype());
      for (int64_t ch = 0; ch < c; ++ch) out.bias.data<T>()[ch] = static_cast<T>(sum_g[ch]);
    }
    if (!need_input) return;
    // Pass 2: dx = a g + b (x - mean) + d per channel. Training: with scale = w invstd,
    // dx = scale (g - sum_g / M - (x - mean) invstd^2 sum_gx / M); eval: dx = scale g.
    const double count = static_cast<double>(n * l);
    std::vector<T> a(c), b(c), d(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      const double scale = static_cast<double>(invstd[ch]) * (w ? static_cast<double>(w[ch]) : 1.0);
      const double inv2 = static_cast<double>(invstd[ch]) * static_cast<double>(invstd[ch]);
      const double bb = training ? -scale * inv2 * sum_gx[ch] / count : 0.0;
      a[ch] = static_cast<T>(scale);
      b[ch] = static_cast<T>(bb);
      d[ch] = static_cast<T>(training ? -scale * sum_g[ch] / count : 0.0);
    }
    out.input = empty_like(x);
    T* o = out.input.data<T>();
    if (last) {
      const auto& kernels = internal::channel_kernels<T>();
      for_row_blocks(n * l, c, [&](int64_t, int64_t r0, int64_t rows) {
        kernels.input_gradient(gp + r0 * c, xp + r0 * c, a.data(), b.data(), mean, d.data(), rows, c, o + r0 * c);
      });
      return;
    }
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() >= 32768)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t at = (i * c + ch) * l;
        const T ac = a[ch], bc = b[ch], dc = d[ch], m = mean[ch];
        for (int64_t j = 0; j < l; ++j) o[at + j] = ac * gp[at + j] + bc * (xp[at + j] - m) + dc;
      }
  });
  return out;
}

}  // namespace tg::ops
