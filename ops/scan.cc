// tapegrad/ops/scan.cc: see scan.h. Each kernel moves dim last, runs over contiguous rows and
// moves it back.
#include "ops/scan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace tg::ops {

namespace {

// The permutation that moves dim last, and its inverse.
std::pair<Shape, Shape> dim_last(int64_t dim, int64_t rank) {
  Shape perm, inverse(rank);
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim) perm.push_back(d);
  perm.push_back(dim);
  for (int64_t d = 0; d < rank; ++d) inverse[perm[d]] = d;
  return {perm, inverse};
}

// Calls row(in_rows..., out_rows..., n) for every row of length n along dim; the inputs are
// read contiguously with dim last and the outputs (of dtype out_dtypes) come back in x's layout.
template <typename Fn>
std::vector<Array> along_rows(const std::vector<Array>& inputs, int64_t dim, const std::vector<DType>& out_dtypes,
                              Fn&& row, const char* op) {
  const Array& x = inputs[0];
  if (x.dim() == 0) {  // a 0-d tensor is one row of one
    std::vector<Array> as_rows;
    for (const Array& a : inputs) as_rows.push_back(a.reshape({1}));
    std::vector<Array> out = along_rows(as_rows, 0, out_dtypes, row, op);
    for (Array& o : out) o = o.reshape({});
    return out;
  }
  dim = wrap_dim(dim, x.dim(), op);
  const auto [perm, inverse] = dim_last(dim, x.dim());
  std::vector<Array> in;
  for (const Array& a : inputs) in.push_back(a.permute(perm).contiguous());
  const Shape moved = in[0].shape();
  std::vector<Array> out;
  for (DType d : out_dtypes) out.push_back(Array::empty(moved, d));
  const int64_t n = x.size(dim), rows = n == 0 ? 0 : x.numel() / n;
  for (int64_t r = 0; r < rows; ++r) row(in, out, r * n, n);
  for (Array& o : out) o = o.permute(inverse).contiguous();
  return out;
}

}  // namespace

Array cumsum(const Array& x, int64_t dim) {
  return dispatch_numeric(x.dtype(), "cumsum", [&](auto tag) {
    using T = decltype(tag);
    return along_rows({x}, dim, {x.dtype()}, [](auto& in, auto& out, int64_t at, int64_t n) {
      const T* p = in[0].template data<T>() + at;
      T* o = out[0].template data<T>() + at;
      T acc = 0;
      for (int64_t i = 0; i < n; ++i) o[i] = acc += p[i];
    }, "cumsum")[0];
  });
}

Array cumprod(const Array& x, int64_t dim) {
  return dispatch_numeric(x.dtype(), "cumprod", [&](auto tag) {
    using T = decltype(tag);
    return along_rows({x}, dim, {x.dtype()}, [](auto& in, auto& out, int64_t at, int64_t n) {
      const T* p = in[0].template data<T>() + at;
      T* o = out[0].template data<T>() + at;
      T acc = 1;
      for (int64_t i = 0; i < n; ++i) o[i] = acc *= p[i];
    }, "cumprod")[0];
  });
}

Array cumprod_backward(const Array& x, const Array& grad, int64_t dim) {
  return dispatch_floating(x.dtype(), "cumprod", [&](auto tag) {
    using T = decltype(tag);
    return along_rows({x, grad}, dim, {x.dtype()}, [](auto& in, auto& out, int64_t at, int64_t n) {
      const T* p = in[0].template data<T>() + at;
      const T* g = in[1].template data<T>() + at;
      T* o = out[0].template data<T>() + at;
      T s = 0;
      for (int64_t k = n - 1; k >= 0; --k) {  // o[k] = S_k for now
        s = g[k] + (k + 1 < n ? p[k + 1] * s : T(0));
        o[k] = s;
      }
      T left = 1;
      for (int64_t k = 0; k < n; ++k) {
        o[k] *= left;
        left *= p[k];
      }
    }, "cumprod")[0];
  });
}

Array product_of_others(const Array& x, int64_t dim) {
  return dispatch_floating(x.dtype(), "prod", [&](auto tag) {
    using T = decltype(tag);
    return along_rows({x}, dim, {x.dtype()}, [](auto& in, auto& out, int64_t at, int64_t n) {
      const T* p = in[0].template data<T>() + at;
      T* o = out[0].template data<T>() + at;
      T left = 1;
      for (int64_t k = 0; k < n; ++k) {
        o[k] = left;
        left *= p[k];
      }
      T right = 1;
      for (int64_t k = n - 1; k >= 0; --k) {
        o[k] *= right;
        right *= p[k];
      }
    }, "prod")[0];
  });
}

namespace {

// Row order: ascending with NaN last (descending: NaN first), ties by index (stable).
template <typename T>
void sorted_indices(const T* p, int64_t n, bool descending, std::vector<int64_t>& order) {
  order.resize(n);
  std::iota(order.begin(), order.end(), 0);
  auto key_less = [&](int64_t a, int64_t b) {
    const T x = p[a], y = p[b];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x) || std::isnan(y)) return descending ? (std::isnan(x) && !std::isnan(y)) : (!std::isnan(x) && std::isnan(y));
    }
    return descending ? x > y : x < y;
  };
  std::stable_sort(order.begin(), order.end(), key_less);
}

}  // namespace

std::pair<Array, Array> sort(const Array& x, int64_t dim, bool descending) {
  return dispatch_numeric(x.dtype(), "sort", [&](auto tag) {
    using T = decltype(tag);
    std::vector<int64_t> order;
    auto out = along_rows({x}, dim, {x.dtype(), kInt64}, [&](auto& in, auto& o, int64_t at, int64_t n) {
      const T* p = in[0].template data<T>() + at;
      sorted_indices(p, n, descending, order);
      for (int64_t i = 0; i < n; ++i) {
        o[0].template data<T>()[at + i] = p[order[i]];
        o[1].template data<int64_t>()[at + i] = order[i];
      }
    }, "sort");
    return std::make_pair(out[0], out[1]);
  });
}

std::pair<Array, Array> topk(const Array& x, int64_t k, int64_t dim, bool largest) {
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  TG_CHECK(k >= 0 && k <= n, "topk: k = ", k, " is out of range for dim ", dim, " of size ", n, " (tensor ",
           shape_str(x.shape()), ")");
  auto [values, indices] = sort(x, dim, /*descending=*/largest);
  if (x.dim() == 0) return {values, indices};
  return {values.narrow(d, 0, k).contiguous(), indices.narrow(d, 0, k).contiguous()};
}

}  // namespace tg::ops
