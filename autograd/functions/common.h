// tapegrad/autograd/functions/common.h: small helpers shared by the op-row files.
#pragma once

#include <cmath>
#include <vector>

#include "autograd/functions.h"
#include "autograd/op_table.h"

namespace tg::internal {

// A tensor that never requires grad (masks, indices, saved statistics).
inline Tensor constant(ops::Array a) { return Tensor(std::move(a)); }

// Computes input i's gradient only when that input needs one.
template <typename F>
Tensor if_needed(const BackwardContext& c, size_t i, F&& f) {
  return c.needs_grad(i) ? f() : Tensor();
}

inline std::vector<int64_t> pair(Size2 s) { return {s.h, s.w}; }

// A scalar of x's dtype, broadcastable against x. An integer tensor refuses a fractional (or
// non-finite) scalar instead of truncating it: without type promotion, `arange(5) * 2.5` could
// only give a wrong number.
inline Tensor scalar_like(double value, const Tensor& x, const char* op) {
  TG_CHECK(is_floating(x.dtype()) || (std::isfinite(value) && std::trunc(value) == value), op, ": ",
           dtype_name(x.dtype()), " tensor ", shape_str(x.shape()), " with the scalar ", value,
           " would need type promotion (not supported yet); convert first, e.g. to_dtype(x, kFloat32)");
  return scalar_tensor(value, x.dtype());
}

}  // namespace tg::internal
