// tapegrad/ops/reduce.h: grad-free reductions along any set of dims (keepdim or not).
// Sums are deterministic for a given shape whatever the thread count: fixed chunks, fixed order.
#pragma once

#include <utility>

#include "ops/array.h"

namespace tg::ops {

// Normalizes a dim list (negative dims wrapped, duplicates rejected); empty means all dims.
Shape normalize_dims(const Shape& dims, int64_t ndim, const char* op);
// Shape of the result of reducing `dims` (already normalized).
Shape reduced_shape(const Shape& shape, const Shape& dims, bool keepdim);

Array sum(const Array& x, const Shape& dims, bool keepdim);
Array logsumexp(const Array& x, const Shape& dims, bool keepdim);
// Max/min along one dim: (values, int64 indices of the first extremum).
std::pair<Array, Array> max_along(const Array& x, int64_t dim, bool keepdim);
std::pair<Array, Array> min_along(const Array& x, int64_t dim, bool keepdim);

}  // namespace tg::ops
