// tapegrad/ops/lstm_layer.cc: see lstm_layer.h. The rows of a step run in parallel when the step
// is large; the activations are the vector kernels' sigmoid and tanh, as in ops/lstm_cell.cc (the
// values are the per-step rows' to float rounding: the biases arrive summed into xw).
#include "ops/lstm_layer.h"

#include <cstring>

#include "ops/blas.h"
#include "ops/internal/strided_loop.h"
#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

LstmLayerResult lstm_layer(const Array& xw_in, const Array& r_in, const Array& h0_in, const Array& c0_in,
                           bool reverse) {
  TG_CHECK(xw_in.dim() == 3 && r_in.dim() == 2 && r_in.size(0) == 4 * r_in.size(1) &&
               xw_in.size(2) == r_in.size(0),
           "lstm_layer: input projections ", shape_str(xw_in.shape()), " [T, B, 4H] and recurrent weight ",
           shape_str(r_in.shape()), " [4H, H] do not fit");
  const int64_t steps = xw_in.size(0), batch = xw_in.size(1), h = r_in.size(1);
  const Shape state{batch, h};
  TG_CHECK(h0_in.shape() == state && c0_in.shape() == state, "lstm_layer: initial states ", shape_str(h0_in.shape()),
           " and ", shape_str(c0_in.shape()), " should be ", shape_str(state));
  for (const Array* a : {&r_in, &h0_in, &c0_in}) {
    TG_CHECK(a->dtype() == xw_in.dtype(), "lstm_layer: dtypes differ (", dtype_name(xw_in.dtype()), ", ",
             dtype_name(a->dtype()), ")");
  }
  // xw's steps and rows may be strided (a batch-major [B, T, 4H] projection viewed as [T, B, 4H]).
  const Array xw = xw_in.strides()[2] == 1 ? xw_in : xw_in.contiguous();
  const Array r = r_in.contiguous(), h0 = h0_in.contiguous();
  const int64_t step_stride = xw.strides()[0], row_stride = xw.strides()[1];
  LstmLayerResult out{Array::empty({steps, batch, h}, xw.dtype()), Array::empty(state, xw.dtype()),
                      Array::empty(state, xw.dtype())};
  copy_into(out.c, c0_in);  // updated in place step by step
  if (steps == 0) {
    out.h = h0.clone();
    return out;
  }
  dispatch_floating(xw.dtype(), "lstm_layer", [&](auto tag) {
    using T = decltype(tag);
    const auto unary = internal::vector_kernels<T>().unary;
    Array gates_a = Array::empty({batch, 4 * h}, xw.dtype()), tanh_a = Array::empty(state, xw.dtype());
    T *gates = gates_a.data<T>(), *tc = tanh_a.data<T>(), *c = out.c.data<T>(), *y = out.y.data<T>();
    const T* h_prev = h0.data<T>();
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t t = reverse ? steps - 1 - step : step;
      gemm(false, true, batch, 4 * h, h, T(1), h_prev, h, r.data<T>(), h, T(0), gates, 4 * h);  // h r^T
      const T* x = xw.data<T>() + t * step_stride;
      T* h_out = y + t * batch * h;
      auto row = [&](int64_t b) {
        T *z = gates + b * 4 * h, *cb = c + b * h, *tb = tc + b * h, *hb = h_out + b * h;
        const T* xb = x + b * row_stride;
        for (int64_t j = 0; j < 4 * h; ++j) z[j] += xb[j];
        unary(UnaryOp::kSigmoid, z, z, 2 * h);  // i, f
        unary(UnaryOp::kTanh, z + 2 * h, z + 2 * h, h);
        unary(UnaryOp::kSigmoid, z + 3 * h, z + 3 * h, h);
        for (int64_t j = 0; j < h; ++j) cb[j] = z[h + j] * cb[j] + z[j] * z[2 * h + j];
        unary(UnaryOp::kTanh, cb, tb, h);
        for (int64_t j = 0; j < h; ++j) hb[j] = z[3 * h + j] * tb[j];
      };
      if (batch * 4 * h >= internal::kParallelGrain) {
        refresh_team_size();
#pragma omp parallel for schedule(static)
        for (int64_t b = 0; b < batch; ++b) row(b);
      } else {
        for (int64_t b = 0; b < batch; ++b) row(b);
      }
      h_prev = h_out;
    }
    std::memcpy(out.h.data<T>(), h_prev, batch * h * sizeof(T));
  });
  return out;
}

}  // namespace tg::ops
