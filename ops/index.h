// tapegrad/ops/index.h: grad-free indexing and joining: cat, index_select / index_add, embedding,
// gather / scatter_add, pad, nonzero. Every index is range-checked before any memory is touched.
#pragma once

#include <vector>

#include "ops/array.h"

namespace tg::ops {

Array cat(const std::vector<Array>& arrays, int64_t dim);
// out = x selected at `index` (1-D int64) along dim.
Array index_select(const Array& x, int64_t dim, const Array& index);
// zeros(shape) with src added at rows `index` along dim (the adjoint of index_select).
Array index_add(const Shape& shape, int64_t dim, const Array& index, const Array& src);
// Rows of weight [V, D] at int64 indices of any shape: indices.shape + [D].
Array embedding(const Array& weight, const Array& indices);
// The adjoint: [num_weights, D] zeros with grad's rows ([*indices.shape, D]) added at their
// indices, skipping positions whose index is padding_idx (-1: none).
Array embedding_backward(const Array& grad, const Array& indices, int64_t num_weights, int64_t padding_idx);
// out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1); index has x's rank.
Array gather(const Array& x, int64_t dim, const Array& index);
// zeros(shape) with out[i][index[i][j][k]][k] += src[i][j][k] (the adjoint of gather).
Array scatter_add(const Shape& shape, int64_t dim, const Array& index, const Array& src);

// Padding of every dim: begins[d] and ends[d] elements before and after dim d (non-negative).
// kConstant fills with value, kReflect mirrors without repeating the edge (the pad must be
// smaller than the dim), kReplicate repeats the edge (the dim must not be empty).
enum class PadMode { kConstant, kReflect, kReplicate };
Array pad(const Array& x, const Shape& begins, const Shape& ends, PadMode mode, double value);
// The multi-indices of x's non-zero elements, row-major: int64 [count, x.dim()].
Array nonzero(const Array& x);

}  // namespace tg::ops
