// tapegrad/ops/reduce.cc: reductions. Every reduction first views the input as a contiguous
// [outer, inner] matrix whose rows are the groups being reduced, then reduces each row.
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/internal/row_blocks.h"
#include "ops/internal/strided_loop.h"
#include "ops/internal/sum_loops.h"
#include "ops/internal/vector_kernels.h"

namespace tg::ops {

namespace {

// Permutes kept dims first and reduced dims last, copies to contiguous, returns [outer, inner].
Array as_rows(const Array& x, const Shape& dims) {
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  Shape perm;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!reduced[d]) perm.push_back(d), outer *= x.size(d);
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) perm.push_back(d), inner *= x.size(d);
  }
  return x.permute(perm).contiguous().view({outer, inner});
}

template <typename T>
using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// Deterministic sum of n values: fixed 4096-element chunks summed in order.
template <typename T>
Acc<T> sum_row(const T* p, int64_t n) {
  constexpr int64_t kChunk = 4096;
  if (n <= kChunk) {
    Acc<T> s = 0;
    for (int64_t i = 0; i < n; ++i) s += p[i];
    return s;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Acc<T>> partial(chunks, 0);
#pragma omp parallel for schedule(static) if (n >= internal::kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
    Acc<T> s = 0;
    for (int64_t i = c * kChunk; i < end; ++i) s += p[i];
    partial[c] = s;
  }
  Acc<T> s = 0;
  for (auto v : partial) s += v;
  return s;
}

template <typename T, typename RowFn>
void for_each_output_row(int64_t outer, int64_t inner, RowFn&& fn) {
  if (outer > 1 && outer * inner >= internal::kParallelGrain) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < outer; ++r) fn(r);
  } else {
    for (int64_t r = 0; r < outer; ++r) fn(r);
  }
}

template <bool kMax>
std::pair<Array, Array> extremum_along(const Array& x, int64_t dim, bool keepdim, const char* op) {
  TG_CHECK(x.numel() > 0, op, ": cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  if (x.dim() == 0) return {x.clone(), Array::zeros({}, kInt64)};
  dim = wrap_dim(dim, x.dim(), op);
  const Array rows = as_rows(x, {dim});
  const int64_t outer = rows.size(0), inner = rows.size(1);
  const Shape out_shape = reduced_shape(x.shape(), {dim}, keepdim);
  Array values = Array::empty(out_shape, x.dtype());
  Array indices = Array::empty(out_shape, kInt64);
  dispatch_numeric(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* p = rows.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_each_output_row<T>(outer, inner, [&](int64_t r) {
      const T* row = p + r * inner;
      int64_t best = 0;
      for (int64_t i = 1; i < inner; ++i) {
        if (std::isnan(static_cast<double>(row[best]))) break;  // NaN propagates, like PyTorch
        const bool better = kMax ? (row[i] > row[best]) : (row[i] < row[best]);
        if (better || std::isnan(static_cast<double>(row[i]))) best = i;
      }
      v[r] = row[best];
      ix[r] = best;
    });
  });
  return {values, indices};
}

}  // namespace

Shape normalize_dims(const Shape& dims, int64_t ndim, const char* op) {
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(std::max<int64_t>(ndim, 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    TG_CHECK(!seen[w], op, ": dimension ", d, " appears twice in ", shape_str(dims));
    seen[w] = true;
    if (ndim > 0) out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape reduced_shape(const Shape& shape, const Shape& dims, bool keepdim) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t d : dims) reduced[d] = true;
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) {
      out.push_back(shape[d]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

// Sums a contiguous x viewed as [a, k, b] over a and b without as_rows' transposing copy
// (internal/sum_loops.h), parallel over k; float dtypes run the per-ISA kernel.
template <typename T>
static void sum_outer_and_inner(const T* x, int64_t a, int64_t k, int64_t b, T* out) {
  void (*range)(const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*) = nullptr;
  if constexpr (std::is_floating_point_v<T>) {
    range = internal::vector_kernels<T>().sum_outer_and_inner;
  } else {
    range = &internal::sum_outer_and_inner_range<T, Acc<T>>;
  }
#pragma omp parallel for schedule(static) if (a * k * b >= internal::kParallelGrain)
  for (int64_t j = 0; j < k; ++j) range(x, a, k, b, j, j + 1, out);
}

// Column sums of a row-major [a, k] block: out[j] = sum over i of x[i, j], accumulated in Acc<T>
// in row order (the same bits as summing each column as a row), in one pass over the rows.
template <typename T>
static void sum_columns(const T* x, int64_t a, int64_t k, T* out) {
  constexpr int64_t kColumns = 256;  // per task: the accumulators stay in L1
  const int64_t tasks = (k + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (a * k >= internal::kParallelGrain && tasks > 1)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t j0 = task * kColumns, n = std::min(kColumns, k - j0);
    Acc<T> acc[kColumns] = {};
    for (int64_t i = 0; i < a; ++i) {
      const T* row = x + i * k + j0;
      for (int64_t j = 0; j < n; ++j) acc[j] += row[j];
    }
    for (int64_t j = 0; j < n; ++j) out[j0 + j] = static_cast<T>(acc[j]);
  }
}

// Column sums of a row-major [a, k] block with few columns and many rows (a convolution's bias
// gradient in channels last: [N*H*W, C]): fixed chunks of rows (by shape alone, so the same bits
// at any thread count) summed in parallel, their partial sums added in chunk order.
template <typename T>
static void sum_columns_by_row_chunks(const T* x, int64_t a, int64_t k, T* out) {
  constexpr int64_t kRows = 1024;
  const int64_t chunks = internal::row_blocks(a, kRows);
  std::vector<Acc<T>> partial(chunks * k, Acc<T>(0));
  internal::for_row_blocks(a, k, kRows, [&](int64_t q, int64_t r0, int64_t rows) {
    Acc<T>* acc = partial.data() + q * k;
    for (int64_t i = r0; i < r0 + rows; ++i) {
      const T* row = x + i * k;
      for (int64_t j = 0; j < k; ++j) acc[j] += row[j];
    }
  });
  for (int64_t j = 0; j < k; ++j) {
    Acc<T> s = 0;
    for (int64_t q = 0; q < chunks; ++q) s += partial[q * k + j];
    out[j] = static_cast<T>(s);
  }
}

Array sum(const Array& x, const Shape& dims_in, bool keepdim) {
  const Shape dims = normalize_dims(dims_in, x.dim(), "sum");
  // Note [Channels last] (ops/array.cc): a sum over H and W (global average pooling) of a
  // channels-last input sums rows of its [N, H*W, C] memory: no transposing copy, and the order
  // (so the bits) of the contiguous path. A sum over N, H and W (a bias gradient) sums the rows
  // of its [N*H*W, C] memory.
  if ((dims == Shape{2, 3} || dims == Shape{0, 2, 3}) && !x.is_contiguous() && is_channels_last(x)) {
    const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
    Array out = Array::empty(reduced_shape(x.shape(), dims, keepdim), x.dtype());
    dispatch_numeric(x.dtype(), "sum", [&](auto tag) {
      using T = decltype(tag);
      const T* p = x.data<T>();
      T* o = out.data<T>();
      if (dims.size() == 3) {
        sum_columns_by_row_chunks(p, n * hw, c, o);
        return;
      }
#pragma omp parallel for schedule(static) if (x.numel() >= internal::kParallelGrain)
      for (int64_t i = 0; i < n; ++i) sum_columns(p + i * hw * c, hw, c, o + i * c);
    });
    return out;
  }
  // Kept dims forming one block [lo, hi) with reduced dims before it (and maybe after it): no
  // transposing copy. (Reduced dims after it only: the rows path below copies nothing either.)
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  int64_t lo = 0, hi = x.dim();
  while (lo < x.dim() && reduced[lo]) ++lo;
  while (hi > lo && reduced[hi - 1]) --hi;
  bool block = lo > 0 && lo < hi && x.is_contiguous();
  for (int64_t d = lo; d < hi; ++d) block = block && !reduced[d];
  if (block) {
    int64_t a = 1, k = 1, b = 1;
    for (int64_t d = 0; d < x.dim(); ++d) (d < lo ? a : d < hi ? k : b) *= x.size(d);
    Array out = Array::empty(reduced_shape(x.shape(), dims, keepdim), x.dtype());
    dispatch_numeric(x.dtype(), "sum", [&](auto tag) {
      using T = decltype(tag);
      if (b == 1 && k > 1) {
        sum_columns(x.data<T>(), a, k, out.data<T>());  // a bias gradient: [N, ..., C] -> [C]
      } else if (b == 1) {
        out.data<T>()[0] = static_cast<T>(sum_row(x.data<T>(), a));  // one column: a row
      } else {
        sum_outer_and_inner(x.data<T>(), a, k, b, out.data<T>());
      }
    });
    return out;
  }
  const Array rows = as_rows(x, dims);
  const int64_t outer = rows.size(0), inner = rows.size(1);
  Array out = Array::empty(reduced_shape(x.shape(), dims, keepdim), x.dtype());
  dispatch_numeric(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* p = rows.data<T>();
    T* o = out.data<T>();
    if (outer == 1) {
      o[0] = static_cast<T>(sum_row(p, inner));
      return;
    }
    for_each_output_row<T>(outer, inner, [&](int64_t r) {
      Acc<T> s = 0;
      const T* row = p + r * inner;
      for (int64_t i = 0; i < inner; ++i) s += row[i];
      o[r] = static_cast<T>(s);
    });
  });
  return out;
}

Array logsumexp(const Array& x, const Shape& dims_in, bool keepdim) {
  const Shape dims = normalize_dims(dims_in, x.dim(), "logsumexp");
  const Array rows = as_rows(x, dims);
  const int64_t outer = rows.size(0), inner = rows.size(1);
  Array out = Array::empty(reduced_shape(x.shape(), dims, keepdim), x.dtype());
  dispatch_floating(x.dtype(), "logsumexp", [&](auto tag) {
    using T = decltype(tag);
    const T* p = rows.data<T>();
    T* o = out.data<T>();
    for_each_output_row<T>(outer, inner, [&](int64_t r) {
      const T* row = p + r * inner;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < inner; ++i) m = std::max(m, row[i]);
      if (!std::isfinite(m)) {
        o[r] = inner == 0 ? -std::numeric_limits<T>::infinity() : m;
        return;
      }
      double s = 0;
      for (int64_t i = 0; i < inner; ++i) s += std::exp(static_cast<double>(row[i] - m));
      o[r] = static_cast<T>(m + std::log(s));
    });
  });
  return out;
}

std::pair<Array, Array> max_along(const Array& x, int64_t dim, bool keepdim) {
  return extremum_along<true>(x, dim, keepdim, "max");
}

std::pair<Array, Array> min_along(const Array& x, int64_t dim, bool keepdim) {
  return extremum_along<false>(x, dim, keepdim, "min");
}

}  // namespace tg::ops
