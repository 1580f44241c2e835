// tapegrad/ops/shape.cc: shape arithmetic (see shape.h).
#include "ops/shape.h"

#include "ops/error.h"

namespace tg::ops {

int64_t shape_numel(const Shape& shape, const char* op) {
  int64_t n = 1;
  for (int64_t d : shape) {
    TG_CHECK(d >= 0, op, ": negative dimension in shape ", shape_str(shape));
    TG_CHECK(!__builtin_mul_overflow(n, d, &n), op, ": element count of shape ", shape_str(shape),
             " overflows int64");
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    // Only a shape with a zero dim (no elements) can get here with dims whose product overflows;
    // its strides are never used to address memory, so saturate.
    if (__builtin_mul_overflow(s, shape[i] > 0 ? shape[i] : 1, &s)) s = INT64_MAX;
  }
  return strides;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  TG_CHECK(dim >= lo && dim <= hi, op, ": dimension ", dim, " out of range for a ", ndim,
           "-d tensor (expected in [", lo, ", ", hi, "])");
  return dim < 0 ? dim + (ndim == 0 ? 1 : ndim) : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    TG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
             " cannot be broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape infer_shape(const Shape& target, int64_t numel, const char* op) {
  Shape out = target;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      TG_CHECK(infer_at < 0, op, ": only one dimension can be -1 in ", shape_str(target));
      infer_at = static_cast<int64_t>(i);
    } else {
      TG_CHECK(out[i] >= 0, op, ": invalid dimension ", out[i], " in ", shape_str(target));
      TG_CHECK(!__builtin_mul_overflow(known, out[i], &known), op, ": shape ", shape_str(target),
               " overflows int64");
    }
  }
  if (infer_at >= 0) {
    TG_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(target),
             " is invalid for input of size ", numel);
    out[infer_at] = numel / known;
  } else {
    TG_CHECK(known == numel, op, ": shape ", shape_str(target), " is invalid for input of size ", numel);
  }
  return out;
}

}  // namespace tg::ops
