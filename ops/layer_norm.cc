// tapegrad/ops/layer_norm.cc: layer-norm kernel, one pass for the mean, one for the variance and
// one for the output per row, parallel over rows.
#include "ops/layer_norm.h"

#include <cmath>

namespace tg::ops {

LayerNormResult layer_norm(const Array& x_in, int64_t inner, const Array& weight_in, const Array& bias_in,
                           double eps) {
  TG_CHECK(inner > 0 && x_in.numel() % inner == 0, "layer_norm: ", inner, " normalized elements do not divide input ",
           shape_str(x_in.shape()));
  for (const Array* p : {&weight_in, &bias_in}) {
    TG_CHECK(!p->defined() || (p->numel() == inner && p->dtype() == x_in.dtype()),
             "layer_norm: weight/bias ", shape_str(p->shape()), " ", dtype_name(p->dtype()), " does not match ", inner,
             " normalized elements of ", dtype_name(x_in.dtype()), " input");
  }
  const Array x = x_in.contiguous();
  const Array weight = weight_in.defined() ? weight_in.contiguous() : Array();
  const Array bias = bias_in.defined() ? bias_in.contiguous() : Array();
  const int64_t rows = x.numel() / inner;
  LayerNormResult r{Array::empty(x.shape(), x.dtype()), Array::empty({rows}, x.dtype()), Array::empty({rows}, x.dtype())};
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* wp = weight.defined() ? weight.data<T>() : nullptr;
    const T* bp = bias.defined() ? bias.data<T>() : nullptr;
    T* yp = r.y.data<T>();
#pragma omp parallel for schedule(static) if (x.numel() >= 32768)
    for (int64_t row = 0; row < rows; ++row) {
      const T* in = xp + row * inner;
      T* out = yp + row * inner;
      double s = 0;
      for (int64_t k = 0; k < inner; ++k) s += in[k];
      const double m = s / static_cast<double>(inner);
      double ss = 0;
      for (int64_t k = 0; k < inner; ++k) ss += (in[k] - m) * (in[k] - m);
      const double rstd = 1.0 / std::sqrt(ss / static_cast<double>(inner) + eps);
      const T tm = static_cast<T>(m), tr = static_cast<T>(rstd);
      for (int64_t k = 0; k < inner; ++k) {
        T v = (in[k] - tm) * tr;
        if (wp) v *= wp[k];
        if (bp) v += bp[k];
        out[k] = v;
      }
      r.mean.data<T>()[row] = tm;
      r.rstd.data<T>()[row] = tr;
    }
  });
  return r;
}

}  // namespace tg::ops
