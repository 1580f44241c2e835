// tapegrad/ops/linalg.cc: matmul via GEMM. Transposed views are passed to BLAS as transpose flags
// instead of being copied; other strides are made contiguous first.
#include "ops/linalg.h"

#include "ops/blas.h"

namespace tg::ops {

namespace {

// A 2-D operand as BLAS sees it: pointer, transpose flag, leading dimension.
struct GemmOperand {
  Array keep_alive;
  bool trans;
  int64_t ld;
};

GemmOperand as_gemm_operand(const Array& m) {
  const int64_t rows = m.size(0), cols = m.size(1);
  const int64_t s0 = m.strides()[0], s1 = m.strides()[1];
  if ((s1 == 1 || cols == 1) && s0 >= std::max<int64_t>(1, cols)) return {m, false, s0};
  if ((s0 == 1 || rows == 1) && s1 >= std::max<int64_t>(1, rows)) return {m, true, s1};
  Array c = m.contiguous();
  return {c, false, std::max<int64_t>(1, cols)};
}

template <typename T>
void matmul_2d(const Array& a, const Array& b, const Array& out) {
  const GemmOperand ga = as_gemm_operand(a), gb = as_gemm_operand(b);
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  if (k == 0) {
    std::fill_n(out.data<T>(), m * n, T(0));
    return;
  }
  gemm(ga.trans, gb.trans, m, n, k, T(1), ga.keep_alive.template data<T>(), ga.ld,
       gb.keep_alive.template data<T>(), gb.ld, T(0), out.data<T>(), out.strides()[0]);
}

}  // namespace

Shape matmul_shape(const Shape& a, const Shape& b) {
  TG_CHECK(!a.empty() && !b.empty(), "matmul: both arguments need at least 1 dimension, got ",
           shape_str(a), " @ ", shape_str(b));
  const int64_t ka = a.back(), kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  TG_CHECK(ka == kb, "matmul: ", shape_str(a), " @ ", shape_str(b), ": inner dimensions ", ka, " and ", kb,
           " differ");
  const Shape batch_a(a.begin(), a.end() - std::min<size_t>(a.size(), 2));
  const Shape batch_b(b.begin(), b.end() - std::min<size_t>(b.size(), 2));
  Shape out = broadcast_shapes(batch_a, batch_b, "matmul");
  if (a.size() >= 2) out.push_back(a[a.size() - 2]);
  if (b.size() >= 2) out.push_back(b.back());
  return out;
}

Array matmul(const Array& a_in, const Array& b_in) {
  const Shape out_shape = matmul_shape(a_in.shape(), b_in.shape());
  TG_CHECK(a_in.dtype() == b_in.dtype(), "matmul: dtype mismatch ", dtype_name(a_in.dtype()), " vs ",
           dtype_name(b_in.dtype()));
  // [..., m, k] @ [k, n] with a's rows evenly spaced (a linear layer on a sequence): the leading
  // dims fold into m, one GEMM instead of one per batch entry.
  if (a_in.dim() > 2 && b_in.dim() == 2 && a_in.is_contiguous()) {
    const int64_t k = a_in.size(-1), rows = k == 0 ? 0 : a_in.numel() / k;
    Array out = Array::empty({rows, b_in.size(1)}, a_in.dtype());
    dispatch_floating(a_in.dtype(), "matmul", [&](auto tag) {
      using T = decltype(tag);
      matmul_2d<T>(a_in.view({rows, k}), b_in, out);
    });
    return out.view(out_shape);
  }
  // Promote vectors to matrices, then broadcast batch dims and flatten them.
  const Array a = a_in.dim() == 1 ? a_in.unsqueeze(0) : a_in;
  const Array b = b_in.dim() == 1 ? b_in.unsqueeze(1) : b_in;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
  int64_t nbatch = 1;
  for (int64_t d : batch) nbatch *= d;
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {m, k});
  b_full.insert(b_full.end(), {k, n});
  const Array a3 = a.expand(a_full).reshape({nbatch, m, k});
  const Array b3 = b.expand(b_full).reshape({nbatch, k, n});
  Array out = Array::empty({nbatch, m, n}, a.dtype());
  dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < nbatch; ++i) {
      matmul_2d<T>(a3.slice(0, i, i + 1).squeeze(0), b3.slice(0, i, i + 1).squeeze(0),
                   out.slice(0, i, i + 1).squeeze(0));
    }
  });
  return out.view(out_shape);
}

}  // namespace tg::ops
