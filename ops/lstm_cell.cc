// tapegrad/ops/lstm_cell.cc: see lstm_cell.h. Rows ([..., 4H] gates, one per leading index) run
// in parallel; each row's activations are the vector kernels' sigmoid and tanh over its gate
// segments, so the fused and composed forms give the same values.
#include "ops/lstm_cell.h"

#include "ops/internal/strided_loop.h"
#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

// The hidden size H after checking the shapes; rows = the product of the leading dims.
int64_t hidden_size(const Array& gates, const Array& c_prev, int64_t* rows) {
  TG_CHECK(gates.dim() >= 1 && gates.size(-1) % 4 == 0, "fused_lstm_cell: gates must be [..., 4H], got ",
           shape_str(gates.shape()));
  const int64_t h = gates.size(-1) / 4;
  *rows = h == 0 ? 0 : gates.numel() / (4 * h);
  if (!c_prev.defined()) return h;  // the zero state
  Shape want = gates.shape();
  want.back() = h;
  TG_CHECK(c_prev.shape() == want, "fused_lstm_cell: cell state ", shape_str(c_prev.shape()), " does not match gates ",
           shape_str(gates.shape()), " (expected ", shape_str(want), ")");
  TG_CHECK(gates.dtype() == c_prev.dtype(), "fused_lstm_cell: gates are ", dtype_name(gates.dtype()),
           ", cell state ", dtype_name(c_prev.dtype()));
  return h;
}

Array with_last_dim(const Array& like, int64_t size) {
  Shape s = like.shape();
  s.back() = size;
  return Array::empty(s, like.dtype());
}

// Runs body(row) for every row, in parallel when the work is large enough to pay for a team.
template <typename F>
void for_rows(int64_t rows, int64_t per_row, F&& body) {
  if (rows * per_row >= internal::kParallelGrain) {
    refresh_team_size();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) body(r);
  } else {
    for (int64_t r = 0; r < rows; ++r) body(r);
  }
}

}  // namespace

LstmCellResult lstm_cell(const Array& gates_in, const Array& c_in) {
  int64_t rows;
  const int64_t h = hidden_size(gates_in, c_in, &rows);
  LstmCellResult out{with_last_dim(gates_in, 2 * h), with_last_dim(gates_in, 5 * h)};
  const Array gates = gates_in.contiguous(), c_prev = c_in.defined() ? c_in.contiguous() : Array();
  dispatch_floating(gates.dtype(), "fused_lstm_cell", [&](auto tag) {
    using T = decltype(tag);
    const auto unary = internal::vector_kernels<T>().unary;
    const T *z = gates.data<T>(), *cp = c_prev.defined() ? c_prev.data<T>() : nullptr;
    T *o = out.output.data<T>(), *act = out.activations.data<T>();
    for_rows(rows, 4 * h, [&](int64_t r) {
      const T* zr = z + r * 4 * h;
      T *a = act + r * 5 * h, *hr = o + r * 2 * h, *cn = hr + h;
      unary(UnaryOp::kSigmoid, zr, a, 2 * h);  // i, f
      unary(UnaryOp::kTanh, zr + 2 * h, a + 2 * h, h);
      unary(UnaryOp::kSigmoid, zr + 3 * h, a + 3 * h, h);
      const T *i = a, *f = a + h, *g = a + 2 * h, *og = a + 3 * h;
      if (cp != nullptr) {
        const T* cr = cp + r * h;
        for (int64_t j = 0; j < h; ++j) cn[j] = f[j] * cr[j] + i[j] * g[j];
      } else {
        for (int64_t j = 0; j < h; ++j) cn[j] = i[j] * g[j];
      }
      T* tc = a + 4 * h;
      unary(UnaryOp::kTanh, cn, tc, h);
      for (int64_t j = 0; j < h; ++j) hr[j] = og[j] * tc[j];
    });
  });
  return out;
}

LstmCellGrads lstm_cell_backward(const Array& grad_in, const Array& c_in, const Array& act_in) {
  TG_CHECK(grad_in.dim() >= 1 && grad_in.size(-1) % 2 == 0 && act_in.dim() == grad_in.dim() &&
               act_in.size(-1) * 2 == grad_in.size(-1) * 5 && grad_in.dtype() == act_in.dtype(),
           "fused_lstm_cell backward: gradient ", shape_str(grad_in.shape()), " does not match activations ",
           shape_str(act_in.shape()));
  const int64_t h = grad_in.size(-1) / 2, rows = h == 0 ? 0 : grad_in.numel() / (2 * h);
  const Array grad = grad_in.contiguous(), act = act_in.contiguous();
  const Array c_prev = c_in.defined() ? c_in.contiguous() : Array();
  LstmCellGrads out{with_last_dim(grad, 4 * h), c_prev.defined() ? with_last_dim(grad, h) : Array()};
  TG_CHECK(!c_prev.defined() || c_prev.numel() == rows * h, "fused_lstm_cell backward: cell state ",
           shape_str(c_prev.shape()), " does not match gradient ", shape_str(grad.shape()));
  dispatch_floating(grad.dtype(), "fused_lstm_cell backward", [&](auto tag) {
    using T = decltype(tag);
    const T *gp = grad.data<T>(), *cp = c_prev.defined() ? c_prev.data<T>() : nullptr, *ap = act.data<T>();
    T *dz = out.gates.data<T>(), *dcp = cp != nullptr ? out.c_prev.data<T>() : nullptr;
    for_rows(rows, 4 * h, [&](int64_t r) {
      const T *gh = gp + r * 2 * h, *gc = gh + h, *a = ap + r * 5 * h;
      const T *i = a, *f = a + h, *g = a + 2 * h, *og = a + 3 * h, *tc = a + 4 * h;
      T* dzr = dz + r * 4 * h;
      for (int64_t j = 0; j < h; ++j) {
        // dL/dc' from both outputs: c' itself and h' = o tanh(c').
        const T dc = gc[j] + gh[j] * og[j] * (T(1) - tc[j] * tc[j]);
        const T c_before = cp != nullptr ? cp[r * h + j] : T(0);
        dzr[j] = dc * g[j] * i[j] * (T(1) - i[j]);
        dzr[h + j] = dc * c_before * f[j] * (T(1) - f[j]);
        dzr[2 * h + j] = dc * i[j] * (T(1) - g[j] * g[j]);
        dzr[3 * h + j] = gh[j] * tc[j] * og[j] * (T(1) - og[j]);
        if (dcp != nullptr) dcp[r * h + j] = dc * f[j];
      }
    });
  });
  return out;
}

}  // namespace tg::ops
