// tapegrad/ops/batch_norm.cc: batch-norm kernels, parallel over channels.
#include "ops/batch_norm.h"

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
}  // namespace

std::pair<Array, Array> batch_norm_stats(const Array& x_in) {
  int64_t n, c, l;
  dims_of(x_in, &n, &c, &l);
  const Array x = x_in.contiguous();
  Array mean = Array::empty({c}, x.dtype()), var = Array::empty({c}, x.dtype());
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    const double count = static_cast<double>(n * l);
#pragma omp parallel for schedule(static) if (x.numel() >= 32768)
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* row = p + (i * c + ch) * l;
        for (int64_t j = 0; j < l; ++j) s += row[j];
      }
      const double m = s / count;
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* row = p + (i * c + ch) * l;
        for (int64_t j = 0; j < l; ++j) ss += (row[j] - m) * (row[j] - m);
      }
      mean.data<T>()[ch] = static_cast<T>(m);
      var.data<T>()[ch] = static_cast<T>(ss / count);
    }
  });
  return {mean, var};
}

Array batch_norm_apply(const Array& x_in, const Array& mean, const Array& invstd, const Array& weight,
                       const Array& bias) {
  int64_t n, c, l;
  dims_of(x_in, &n, &c, &l);
  const Array x = x_in.contiguous();
  Array out = Array::empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const Array m = mean.contiguous(), is = invstd.contiguous();
    const Array w = weight.defined() ? weight.contiguous() : Array();
    const Array b = bias.defined() ? bias.contiguous() : Array();
    const T* p = x.data<T>();
    T* o = out.data<T>();
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

}  // namespace tg::ops
