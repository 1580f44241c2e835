// tapegrad/ops/scan.h: grad-free kernels along one dim that look at a whole row: cumulative sums
// and products, the reverse recurrence of cumprod's gradient, and sorting (values and the int64
// indices where they came from).
#pragma once

#include <utility>

#include "ops/array.h"

namespace tg::ops {

Array cumsum(const Array& x, int64_t dim);
Array cumprod(const Array& x, int64_t dim);
// The gradient of cumprod along dim, exact where x has zeros: with L_k = prod_{j<k} x_j and
// S_k = g_k + x_{k+1} S_{k+1}, dx_k = L_k S_k.
Array cumprod_backward(const Array& x, const Array& grad, int64_t dim);
// The product of every other element of the row, for each element (prod's gradient; exact
// with zeros).
Array product_of_others(const Array& x, int64_t dim);
// Stable sort along dim (NaN sorts above every number, as in PyTorch): (values, int64 indices).
std::pair<Array, Array> sort(const Array& x, int64_t dim, bool descending);
// The k largest (or smallest) along dim, in order: (values, int64 indices).
std::pair<Array, Array> topk(const Array& x, int64_t k, int64_t dim, bool largest);

}  // namespace tg::ops
