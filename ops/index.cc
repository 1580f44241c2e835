// tapegrad/ops/index.cc: indexing kernels (see index.h).
#include "ops/index.h"

#include <cstring>

#include "ops/elementwise.h"
#include "ops/internal/strided_loop.h"

namespace tg::ops {

namespace {

void check_index_tensor(const Array& index, int64_t bound, const char* op, const Shape& x_shape, int64_t dim) {
  TG_CHECK(index.dtype() == kInt64, op, ": index must be int64, got ", dtype_name(index.dtype()));
  const Array c = index.contiguous();
  const int64_t* p = c.data<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i) {
    TG_CHECK(p[i] >= 0 && p[i] < bound, op, ": index ", p[i], " is out of range for dimension ", dim,
             " of size ", bound, " (tensor ", shape_str(x_shape), ")");
  }
}

// Validates a gather/scatter index against the indexed shape and returns the wrapped dim.
int64_t check_gather_shapes(const Shape& x, int64_t dim, const Array& index, const char* op) {
  dim = wrap_dim(dim, static_cast<int64_t>(x.size()), op);
  TG_CHECK(index.dim() == static_cast<int64_t>(x.size()), op, ": index ", shape_str(index.shape()),
           " must have the same rank as the tensor ", shape_str(x));
  for (int64_t d = 0; d < index.dim(); ++d) {
    TG_CHECK(d == dim || index.size(d) <= x[d], op, ": index ", shape_str(index.shape()),
             " is larger than tensor ", shape_str(x), " in dimension ", d);
  }
  check_index_tensor(index, x.empty() ? 1 : x[dim], op, x, dim);
  return dim;
}

}  // namespace

Array cat(const std::vector<Array>& arrays, int64_t dim) {
  TG_CHECK(!arrays.empty(), "cat: expected a non-empty list of tensors");
  const Array& first = arrays[0];
  TG_CHECK(first.dim() > 0, "cat: zero-dimensional tensors cannot be concatenated");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  out_shape[dim] = 0;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const Array& a = arrays[i];
    TG_CHECK(a.dtype() == first.dtype(), "cat: tensor ", i, " has dtype ", dtype_name(a.dtype()),
             ", tensor 0 has ", dtype_name(first.dtype()));
    TG_CHECK(a.dim() == first.dim(), "cat: tensor ", i, " ", shape_str(a.shape()), " and tensor 0 ",
             shape_str(first.shape()), " differ in rank");
    for (int64_t d = 0; d < a.dim(); ++d) {
      TG_CHECK(d == dim || a.size(d) == first.size(d), "cat: tensor ", i, " ", shape_str(a.shape()),
               " does not match tensor 0 ", shape_str(first.shape()), " in dimension ", d);
    }
    out_shape[dim] += a.size(dim);
  }
  Array out = Array::empty(out_shape, first.dtype());
  int64_t at = 0;
  for (const Array& a : arrays) {
    copy_into(out.slice(dim, at, at + a.size(dim)), a);
    at += a.size(dim);
  }
  return out;
}

Array index_select(const Array& x, int64_t dim, const Array& index) {
  TG_CHECK(x.dim() > 0, "index_select: tensor must have at least one dimension");
  dim = wrap_dim(dim, x.dim(), "index_select");
  TG_CHECK(index.dim() == 1, "index_select: index must be 1-D, got ", shape_str(index.shape()));
  check_index_tensor(index, x.size(dim), "index_select", x.shape(), dim);
  Shape out_shape = x.shape();
  out_shape[dim] = index.size(0);
  Array out = Array::empty(out_shape, x.dtype());
  const Array idx = index.contiguous();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    const int64_t j = idx.data<int64_t>()[i];
    copy_into(out.slice(dim, i, i + 1), x.slice(dim, j, j + 1));
  }
  return out;
}

Array index_add(const Shape& shape, int64_t dim, const Array& index, const Array& src) {
  dim = wrap_dim(dim, static_cast<int64_t>(shape.size()), "index_add");
  TG_CHECK(index.dim() == 1, "index_add: index must be 1-D, got ", shape_str(index.shape()));
  check_index_tensor(index, shape[dim], "index_add", shape, dim);
  Shape expect = shape;
  expect[dim] = index.size(0);
  TG_CHECK(src.shape() == expect, "index_add: source ", shape_str(src.shape()), " should be ",
           shape_str(expect));
  Array out = Array::zeros(shape, src.dtype());
  const Array idx = index.contiguous();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    const int64_t j = idx.data<int64_t>()[i];
    add_into(out.slice(dim, j, j + 1), src.slice(dim, i, i + 1));
  }
  return out;
}

Array embedding(const Array& weight, const Array& indices) {
  TG_CHECK(weight.dim() == 2, "embedding: weight must be [num_embeddings, embedding_dim], got ", shape_str(weight.shape()));
  check_index_tensor(indices, weight.size(0), "embedding", weight.shape(), 0);
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  Array out = Array::empty(out_shape, weight.dtype());
  const Array w = weight.contiguous(), idx = indices.contiguous();
  const int64_t n = idx.numel(), d = w.size(1), bytes = d * dtype_size(w.dtype());
  const int64_t* ip = idx.data<int64_t>();
  const char* wp = static_cast<const char*>(w.raw_data());
  char* op = static_cast<char*>(out.raw_data());
#pragma omp parallel for schedule(static) if (n * d >= 65536)
  for (int64_t i = 0; i < n; ++i) std::memcpy(op + i * bytes, wp + ip[i] * bytes, bytes);
  return out;
}

Array embedding_backward(const Array& grad, const Array& indices, int64_t num_weights, int64_t padding_idx) {
  TG_CHECK(grad.dim() == indices.dim() + 1 && Shape(grad.shape().begin(), grad.shape().end() - 1) == indices.shape(),
           "embedding_backward: gradient ", shape_str(grad.shape()), " does not fit indices ", shape_str(indices.shape()));
  check_index_tensor(indices, num_weights, "embedding_backward", {num_weights, grad.size(-1)}, 0);
  const int64_t d = grad.size(-1);
  Array out = Array::zeros({num_weights, d}, grad.dtype());
  const Array g = grad.contiguous(), idx = indices.contiguous();
  const int64_t* ip = idx.data<int64_t>();
  dispatch_floating(g.dtype(), "embedding_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = g.data<T>();
    T* op = out.data<T>();
    // Sequential over positions (rows repeat); the order is fixed, so the sums are reproducible.
    for (int64_t i = 0; i < idx.numel(); ++i) {
      if (ip[i] == padding_idx) continue;
      T* row = op + ip[i] * d;
      const T* src = gp + i * d;
      for (int64_t k = 0; k < d; ++k) row[k] += src[k];
    }
  });
  return out;
}

Array gather(const Array& x, int64_t dim, const Array& index) {
  dim = check_gather_shapes(x.shape(), dim, index, "gather");
  Array out = Array::empty(index.shape(), x.dtype());
  if (out.numel() == 0) return out;
  Shape x_strides = x.strides();
  const int64_t dim_stride = x.dim() ? x_strides[dim] : 0;
  if (x.dim()) x_strides[dim] = 0;
  const Shape& is = index.strides();
  const Shape& os = out.strides();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const int64_t* ip = index.data<int64_t>();
    T* op = out.data<T>();
    internal::for_each_row<3>(index.shape(), {&os, &x_strides, &is}, [&](auto off, int64_t len) {
      const int64_t so = x.dim() ? os.back() : 1, sx = x.dim() ? x_strides.back() : 0,
                    si = x.dim() ? is.back() : 1;
      for (int64_t k = 0; k < len; ++k) op[off[0] + k * so] = xp[off[1] + k * sx + ip[off[2] + k * si] * dim_stride];
    });
  });
  return out;
}

Array scatter_add(const Shape& shape, int64_t dim, const Array& index, const Array& src) {
  dim = check_gather_shapes(shape, dim, index, "scatter_add");
  TG_CHECK(src.shape() == index.shape(), "scatter_add: source ", shape_str(src.shape()), " and index ",
           shape_str(index.shape()), " differ");
  Array out = Array::zeros(shape, src.dtype());
  if (src.numel() == 0) return out;
  Shape o_strides = out.strides();
  const int64_t dim_stride = out.dim() ? o_strides[dim] : 0;
  if (out.dim()) o_strides[dim] = 0;
  const Shape& is = index.strides();
  const Shape& ss = src.strides();
  const bool rows_disjoint = dim == out.dim() - 1;  // each row then writes its own output row
  dispatch_numeric(src.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    T* op = out.data<T>();
    const int64_t* ip = index.data<int64_t>();
    const T* sp = src.data<T>();
    internal::for_each_row<3>(
        index.shape(), {&o_strides, &is, &ss},
        [&](auto off, int64_t len) {
          const int64_t so = out.dim() ? o_strides.back() : 0, si = out.dim() ? is.back() : 1,
                        sv = out.dim() ? ss.back() : 1;
          for (int64_t k = 0; k < len; ++k) op[off[0] + k * so + ip[off[1] + k * si] * dim_stride] += sp[off[2] + k * sv];
        },
        rows_disjoint);
  });
  return out;
}

Array pad(const Array& x, const Shape& begins, const Shape& ends, PadMode mode, double value) {
  TG_CHECK(static_cast<int64_t>(begins.size()) == x.dim() && static_cast<int64_t>(ends.size()) == x.dim(),
           "pad: ", begins.size(), " begins and ", ends.size(), " ends for a ", x.dim(), "-d tensor");
  Shape out_shape = x.shape();
  for (int64_t d = 0; d < x.dim(); ++d) {
    TG_CHECK(begins[d] >= 0 && ends[d] >= 0, "pad: negative padding ", begins[d], ", ", ends[d], " in dim ", d);
    if (mode == PadMode::kReflect && (begins[d] > 0 || ends[d] > 0)) {
      TG_CHECK(begins[d] < x.size(d) && ends[d] < x.size(d), "pad: reflect padding ", begins[d], ", ", ends[d],
               " must be smaller than dim ", d, " of ", shape_str(x.shape()));
    }
    if (mode == PadMode::kReplicate && (begins[d] > 0 || ends[d] > 0)) {
      TG_CHECK(x.size(d) > 0, "pad: replicate padding of the empty dim ", d, " of ", shape_str(x.shape()));
    }
    out_shape[d] += begins[d] + ends[d];
  }
  Array out = Array::full(out_shape, mode == PadMode::kConstant ? value : 0.0, x.dtype());
  // The centre, then per dim (last to first, each pass reading what the earlier ones wrote) the
  // borders of the region padded so far.
  Array centre = out;
  for (int64_t d = 0; d < x.dim(); ++d) centre = centre.narrow(d, begins[d], x.size(d));
  copy_into(centre, x);
  if (mode == PadMode::kConstant) return out;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    // The dims after d are padded already, the ones before are not yet: fill dim d's borders over
    // the full extent of the later dims and the centre of the earlier ones (their own pass copies
    // whole slabs, corners included).
    Array grown = out;
    for (int64_t e = 0; e < d; ++e) grown = grown.narrow(e, begins[e], x.size(e));
    const int64_t n = x.size(d), b = begins[d];
    for (int64_t j = 0; j < begins[d]; ++j) {  // output index b - 1 - j
      const int64_t src = mode == PadMode::kReflect ? b + 1 + j : b;
      copy_into(grown.narrow(d, b - 1 - j, 1), grown.narrow(d, src, 1));
    }
    for (int64_t j = 0; j < ends[d]; ++j) {  // output index b + n + j
      const int64_t src = mode == PadMode::kReflect ? b + n - 2 - j : b + n - 1;
      copy_into(grown.narrow(d, b + n + j, 1), grown.narrow(d, src, 1));
    }
  }
  return out;
}

Array nonzero(const Array& x) {
  const Array c = x.contiguous();
  std::vector<int64_t> flat;
  dispatch_all(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel(); ++i)
      if (p[i] != T(0)) flat.push_back(i);
  });
  const int64_t count = static_cast<int64_t>(flat.size()), rank = x.dim();
  Array out = Array::empty({count, rank}, kInt64);
  int64_t* o = out.data<int64_t>();
  for (int64_t k = 0; k < count; ++k) {
    int64_t rest = flat[k];
    for (int64_t d = rank - 1; d >= 0; --d) {
      o[k * rank + d] = rest % x.size(d);
      rest /= x.size(d);
    }
  }
  return out;
}

}  // namespace tg::ops
