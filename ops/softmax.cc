// tapegrad/ops/softmax.cc: softmax kernels over rows (dim moved last, made contiguous).
#include "ops/softmax.h"

#include <numeric>

#include "ops/internal/vector_kernels.h"

namespace tg::ops {

namespace {

template <bool kLog>
Array softmax_impl(const Array& x, int64_t dim, const char* op) {
  if (x.dim() == 0) return softmax_impl<kLog>(x.reshape({1}), 0, op).reshape({});
  dim = wrap_dim(dim, x.dim(), op);
  Shape perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[dim], perm.back());
  const Array rows = x.permute(perm).contiguous();
  Array out = Array::empty(rows.shape(), x.dtype());
  const int64_t inner = rows.dim() ? rows.shape().back() : 1;
  const int64_t outer = inner ? rows.numel() / inner : 0;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = rows.data<T>();
    T* dst = out.data<T>();
    const auto row_kernel = internal::vector_kernels<T>().softmax_row;
#pragma omp parallel for schedule(static) if (rows.numel() >= 32768)
    for (int64_t r = 0; r < outer; ++r) row_kernel(kLog, src + r * inner, dst + r * inner, inner);
  });
  return out.permute(perm);  // the permutation is its own inverse (a swap)
}

}  // namespace

Array softmax(const Array& x, int64_t dim) { return softmax_impl<false>(x, dim, "softmax"); }
Array log_softmax(const Array& x, int64_t dim) { return softmax_impl<true>(x, dim, "log_softmax"); }

}  // namespace tg::ops
