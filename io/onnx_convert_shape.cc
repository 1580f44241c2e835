// tapegrad/io/onnx_convert_shape.cc: ONNX shape and indexing ops: Reshape, Flatten, Transpose,
// Squeeze/Unsqueeze, Concat, Split, Slice, Gather(Elements), ScatterElements, Expand, Tile, Pad,
// Shape, Size, Constant(OfShape), Range, Trilu, OneHot, DepthToSpace/SpaceToDepth, NonZero.
// Settings that moved from attributes to inputs across opsets are read from where the node's
// opset keeps them.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/indexing.h"
#include "io/onnx_converters.h"
#include "io/onnx_tensor.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

Tensors reshape_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> shape = c.opset() < 5 ? c.ints("shape") : c.int_values(1);
  const bool allow_zero = c.i("allowzero", 0) != 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0 && !allow_zero) {
      TG_CHECK(static_cast<int64_t>(d) < x.dim(), "shape entry ", d, " is 0 (copy) but the input ",
               shape_str(x.shape()), " has no dimension ", d);
      shape[d] = x.size(d);
    }
    TG_CHECK(shape[d] >= -1, "shape entry ", d, " is ", shape[d]);
  }
  // Note [Batch-free reshape]: a target whose first size is the input's first size (the batch,
  // read by a Shape chain) is written with -1 there and any other -1 resolved, which is the same
  // reshape here and one the tracer records without the literal batch (so a .tgm runs at any batch).
  if (!shape.empty() && x.dim() > 0 && shape[0] == x.size(0) && x.size(0) > 0) {
    int64_t known = 1, unknown = -1;
    bool overflow = false;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == -1) unknown = static_cast<int64_t>(d);
      else overflow = overflow || __builtin_mul_overflow(known, shape[d], &known);
    }
    const bool resolvable = !overflow && (unknown < 0 || (known > 0 && x.numel() % known == 0));
    if (resolvable) {
      if (unknown >= 0) shape[unknown] = x.numel() / known;
      shape[0] = -1;
    }
  }
  return {reshape(x, shape)};
}

Tensors flatten_onnx(C& c) {
  const Tensor& x = c.in(0);
  int64_t axis = c.i("axis", 1);
  TG_CHECK(axis >= -x.dim() && axis <= x.dim(), "axis ", axis, " is out of range for rank ", x.dim());
  if (axis < 0) axis += x.dim();
  // Written as flattens (dims, not sizes) where possible, so a trace holds at any batch.
  if (axis == 0 || x.dim() == 0) return {reshape(x, {1, x.numel()})};
  const Tensor tail = axis == x.dim() ? unsqueeze(x, -1) : flatten(x, axis, -1);
  return {axis == 1 ? tail : flatten(tail, 0, axis - 1)};
}

Tensors transpose_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> perm;
  for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
  perm = c.ints("perm", perm);
  TG_CHECK(static_cast<int64_t>(perm.size()) == x.dim(), "perm has ", perm.size(), " entries for a ", x.dim(),
           "-d input");
  return {permute(x, perm)};
}

std::vector<int64_t> axes_of(C& c, int input_opset, int input_index) {
  if (c.opset() >= input_opset) return c.has_in(input_index) ? c.int_values(input_index) : std::vector<int64_t>{};
  return c.ints("axes", std::vector<int64_t>{});
}

Tensors squeeze_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> axes = axes_of(c, 13, 1);
  if (axes.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d)
      if (x.size(d) == 1) axes.push_back(d);
  }
  for (int64_t& a : axes) {
    a = c.axis(a, x.dim(), "axes entry");
    TG_CHECK(x.size(a) == 1, "dimension ", a, " of ", shape_str(x.shape()), " is not 1");
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Shape out;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) out.push_back(x.size(d));
  return {reshape(x, out)};
}

Tensors unsqueeze_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> axes = axes_of(c, 13, 1);
  TG_CHECK(!axes.empty(), "axes is required");
  const int64_t rank = x.dim() + static_cast<int64_t>(axes.size());
  for (int64_t& a : axes) a = c.axis(a, rank, "axes entry");
  std::sort(axes.begin(), axes.end());
  TG_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), "axes repeat a dimension");
  Shape out;
  int64_t next = 0;
  for (int64_t d = 0; d < rank; ++d) {
    out.push_back(std::binary_search(axes.begin(), axes.end(), d) ? 1 : x.size(next++));
  }
  return {reshape(x, out)};
}

Tensors concat_onnx(C& c) {
  std::vector<Tensor> parts;
  for (int i = 0; i < c.num_inputs(); ++i) parts.push_back(c.in(i));
  std::optional<int64_t> fallback;
  if (c.opset() < 4) fallback = 1;
  const int64_t axis = c.axis(c.i("axis", fallback), parts[0].dim());
  return {cat(parts, axis)};
}

Tensors split_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", 0), x.dim());
  std::vector<int64_t> sizes;
  if (c.opset() >= 13) {
    if (c.has_in(1)) sizes = c.int_values(1);
  } else {
    sizes = c.ints("split", std::vector<int64_t>{});
    if (sizes.empty() && c.opset() < 2 && c.has_in(1)) sizes = c.int_values(1);
  }
  if (sizes.empty()) {
    const int64_t n = c.num_outputs();
    const int64_t len = x.size(axis);
    TG_CHECK(len % n == 0, "dimension ", axis, " of size ", len, " does not split into ", n, " equal parts");
    sizes.assign(n, len / n);
  }
  TG_CHECK(static_cast<int>(sizes.size()) == c.num_outputs(), "split has ", sizes.size(), " sizes for ",
           c.num_outputs(), " outputs");
  return split(x, sizes, axis);
}

// One Slice axis: ONNX clamps start and end into the dimension (differently for negative steps).
Tensor slice_axis(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  TG_CHECK(step != 0, "a step of 0");
  const int64_t n = x.size(axis);
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, 0, n);
    if (end <= start) return slice(x, axis, start, start);
    return slice(x, axis, start, end, step);
  }
  start = std::clamp<int64_t>(start, 0, n - 1);
  end = std::clamp<int64_t>(end, -1, n - 1);
  if (start <= end) return slice(x, axis, 0, 0);
  // Backwards: the elements start, start+step, ... > end, read by index.
  std::vector<int64_t> idx;
  for (int64_t i = start; i > end; i += step) idx.push_back(i);
  return index_select(x, axis, tensor(idx, {static_cast<int64_t>(idx.size())}));
}

Tensors slice_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.ints("starts");
    ends = c.ints("ends");
    axes = c.ints("axes", std::vector<int64_t>{});
  } else {
    starts = c.int_values(1);
    ends = c.int_values(2);
    if (c.has_in(3)) axes = c.int_values(3);
    if (c.has_in(4)) steps = c.int_values(4);
  }
  TG_CHECK(starts.size() == ends.size(), "starts has ", starts.size(), " entries, ends ", ends.size());
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  TG_CHECK(axes.size() == starts.size() && steps.size() == starts.size(), "starts, ends, axes and steps differ in length");
  Tensor y = x;
  for (size_t i = 0; i < axes.size(); ++i) {
    y = slice_axis(y, c.axis(axes[i], x.dim(), "axes entry"), starts[i], ends[i], steps[i]);
  }
  return {y};
}

// Indices may be negative (counting from the end); out-of-range ones are an error.
Tensor normalized_indices(const Tensor& index, int64_t n) {
  TG_CHECK(index.dtype() == kInt64, "indices must be integers, are ", dtype_name(index.dtype()));
  if (index.numel() > 0) {
    const int64_t lo = min(index).item<int64_t>(), hi = max(index).item<int64_t>();
    TG_CHECK(lo >= -n && hi < n, "index ", lo < -n ? lo : hi, " is out of range for a dimension of size ", n);
  }
  return where(lt(index, 0), index + n, index);
}

Tensors gather_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", 0), x.dim());
  const Tensor index = normalized_indices(c.in(1), x.size(axis));
  Shape out(x.shape().begin(), x.shape().begin() + axis);
  for (int64_t d : index.shape()) out.push_back(d);
  for (int64_t d = axis + 1; d < x.dim(); ++d) out.push_back(x.size(d));
  return {reshape(index_select(x, axis, index.reshape({index.numel()})), out)};
}

Tensors gather_elements_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", 0), x.dim());
  return {gather(x, axis, normalized_indices(c.in(1), x.size(axis)))};
}

Tensors scatter_elements_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", 0), x.dim());
  const Tensor index = normalized_indices(c.in(1), x.size(axis));
  const Tensor& updates = c.in(2);
  const std::string reduction = c.s("reduction", "none");
  const Tensor added = scatter_add(x.shape(), axis, index, updates);
  if (reduction == "add") return {add(x, added)};
  TG_CHECK(reduction == "none", "reduction '", reduction, "' is not supported (none and add are)");
  const Tensor written = gt(scatter_add(x.shape(), axis, index, ones_like(updates)), 0);
  return {where(written, added, x)};
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    TG_CHECK(da == db || da == 1 || db == 1, "shapes ", shape_str(a), " and ", shape_str(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensors expand_onnx(C& c) {
  const Tensor& x = c.in(0);
  return {expand(x, broadcast_shapes(x.shape(), c.int_values(1)))};
}

Tensors tile_onnx(C& c) {
  const Tensor& x = c.in(0);
  const std::vector<int64_t> repeats = c.int_values(1);
  TG_CHECK(static_cast<int64_t>(repeats.size()) == x.dim(), "repeats has ", repeats.size(), " entries for a ",
           x.dim(), "-d input");
  return {repeat(x, repeats)};
}

Tensors pad_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> pads;
  double value = 0;
  if (c.opset() < 11) {
    pads = c.ints(c.opset() < 2 ? "paddings" : "pads");
    value = c.f("value", 0.0);
  } else {
    pads = c.int_values(1);
    if (c.has_in(2)) value = c.scalar_value(2);
  }
  std::vector<int64_t> axes;
  if (c.has_in(3)) {
    for (int64_t a : c.int_values(3)) axes.push_back(c.axis(a, x.dim(), "axes entry"));
  } else {
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  }
  const size_t n = axes.size();
  TG_CHECK(pads.size() == 2 * n, "pads has ", pads.size(), " entries for ", n, " axes");
  std::string mode = c.s("mode", "constant");
  TG_CHECK(mode == "constant" || mode == "reflect" || mode == "edge", "mode '", mode, "' is not supported");
  if (mode == "edge") mode = "replicate";
  // PyTorch's order: the last dimension first, (begin, end) pairs.
  std::vector<int64_t> begin(x.dim(), 0), end(x.dim(), 0);
  for (size_t i = 0; i < n; ++i) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[n + i];
  }
  int64_t last = -1;  // the first dim with any padding: the pad list stops there
  for (int64_t d = 0; d < x.dim(); ++d)
    if (begin[d] != 0 || end[d] != 0) { last = d; break; }
  if (last < 0) return {x};
  std::vector<int64_t> torch_pad;
  for (int64_t d = x.dim() - 1; d >= last; --d) {
    torch_pad.push_back(begin[d]);
    torch_pad.push_back(end[d]);
  }
  return {pad(x, torch_pad, mode, value)};
}

Tensors shape_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t rank = x.dim();
  int64_t start = c.i("start", 0), end = c.i("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.shape().begin() + start, x.shape().begin() + end);
  return {tensor(dims, {static_cast<int64_t>(dims.size())})};
}

Tensors constant_onnx(C& c) {
  if (c.has("value")) return {c.t("value")};
  if (c.has("value_float")) return {scalar_tensor(c.f("value_float"), kFloat32)};
  if (c.has("value_int")) return {scalar_tensor(static_cast<double>(c.i("value_int")), kInt64)};
  if (c.has("value_floats")) {
    const std::vector<double> v = c.floats("value_floats");
    return {to_dtype(tensor(v, {static_cast<int64_t>(v.size())}, kFloat64), kFloat32)};
  }
  if (c.has("value_ints")) {
    const std::vector<int64_t> v = c.ints("value_ints");
    return {tensor(v, {static_cast<int64_t>(v.size())})};
  }
  TG_CHECK(false, "Constant needs value, value_float(s) or value_int(s) (sparse and string values are not supported)");
  return {};
}

Tensors constant_of_shape_onnx(C& c) {
  const std::vector<int64_t> shape = c.int_values(0);
  for (int64_t d : shape) TG_CHECK(d >= 0, "shape entry ", d, " is negative");
  if (!c.has("value")) return {zeros(shape, kFloat32)};
  const Tensor v = c.t("value");
  TG_CHECK(v.numel() == 1, "value must hold one element, has shape ", shape_str(v.shape()));
  return {full(shape, v.data().item(), v.dtype())};
}

Tensors range_onnx(C& c) {
  const Tensor& start = c.in(0);
  const double s = c.scalar_value(0), limit = c.scalar_value(1), delta = c.scalar_value(2);
  TG_CHECK(delta != 0, "delta is 0");
  const double count = std::ceil((limit - s) / delta);
  TG_CHECK(std::isfinite(count) && count <= double(int64_t{1} << 32), "Range from ", s, " to ", limit, " by ", delta,
           " has too many elements");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
  // start + i * delta in the inputs' type.
  const Tensor steps = arange(n, start.dtype());
  return {add(mul(steps, reshape(c.in(2), {})), reshape(start, {}))};
}

Tensors trilu_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t k = c.has_in(1) ? c.int_scalar(1) : 0;
  return {c.i("upper", 1) != 0 ? triu(x, k) : tril(x, k)};
}

Tensors one_hot_onnx(C& c) {
  const Tensor& indices = c.in(0);
  const int64_t depth = c.int_scalar(1);
  const Tensor& values = c.in(2);
  TG_CHECK(values.numel() == 2, "values must hold [off, on], has shape ", shape_str(values.shape()));
  TG_CHECK(depth > 0, "depth ", depth, " must be positive");
  const Tensor idx = indices.dtype() == kInt64 ? indices : to_dtype(trunc(indices), kInt64);
  // ONNX: negative indices count from the end; out-of-range ones give an all-off row.
  const Tensor wrapped = where(lt(idx, 0), idx + depth, idx);
  const Tensor valid = logical_and(ge(wrapped, 0), lt(wrapped, depth));
  const Tensor hot = mul(one_hot(where(valid, wrapped, zeros_like(wrapped)), depth), unsqueeze(to_dtype(valid, kInt64), -1));
  const int64_t axis = c.axis(c.i("axis", -1), indices.dim() + 1);
  Shape perm;  // the class dim (last in `hot`) moves to `axis`
  for (int64_t d = 0; d < indices.dim(); ++d) {
    if (d == axis) perm.push_back(indices.dim());
    perm.push_back(d);
  }
  if (axis == indices.dim()) perm.push_back(indices.dim());
  const Tensor moved = permute(hot, perm);
  const Tensor flat = values.reshape({2});
  const Tensor off = select(flat, 0, 0), on = select(flat, 0, 1);
  return {where(gt(moved, 0), on, off)};
}

Tensors depth_to_space_onnx(C& c) {
  const Tensor& x = c.in(0);
  TG_CHECK(x.dim() == 4, "input must be [N, C, H, W], is ", shape_str(x.shape()));
  const int64_t b = c.i("blocksize");
  const int64_t n = x.size(0), ch = x.size(1), h = x.size(2), w = x.size(3);
  TG_CHECK(b > 0 && ch % (b * b) == 0, "channels ", ch, " are not a multiple of blocksize^2 (", b, ")");
  const std::string mode = c.s("mode", "DCR");
  const int64_t oc = ch / (b * b);
  if (mode == "DCR") {
    return {reshape(permute(reshape(x, {n, b, b, oc, h, w}), {0, 3, 4, 1, 5, 2}), {n, oc, h * b, w * b})};
  }
  TG_CHECK(mode == "CRD", "mode '", mode, "' is not DCR or CRD");
  return {reshape(permute(reshape(x, {n, oc, b, b, h, w}), {0, 1, 4, 2, 5, 3}), {n, oc, h * b, w * b})};
}

Tensors space_to_depth_onnx(C& c) {
  const Tensor& x = c.in(0);
  TG_CHECK(x.dim() == 4, "input must be [N, C, H, W], is ", shape_str(x.shape()));
  const int64_t b = c.i("blocksize");
  const int64_t n = x.size(0), ch = x.size(1), h = x.size(2), w = x.size(3);
  TG_CHECK(b > 0 && h % b == 0 && w % b == 0, "spatial size ", h, "x", w, " is not a multiple of blocksize ", b);
  return {reshape(permute(reshape(x, {n, ch, h / b, b, w / b, b}), {0, 3, 5, 1, 2, 4}), {n, ch * b * b, h / b, w / b})};
}

// GatherND/ScatterND: each index row [.., k] as one position in the flattened leading dims
// (after batch_dims shared leading dims): data viewed as [rows, rest...] is then read or written
// by row. Returns the row numbers, shape indices.shape[:-1].
Tensor nd_rows(const Tensor& data, const Tensor& indices, int64_t batch_dims, int64_t* rows) {
  TG_CHECK(indices.dtype() == kInt64 && indices.dim() >= 1, "indices must be integers with at least one dim");
  const int64_t k = indices.size(indices.dim() - 1);
  TG_CHECK(batch_dims >= 0 && batch_dims + k <= data.dim() && batch_dims < indices.dim(), "indices ",
           shape_str(indices.shape()), " (batch_dims ", batch_dims, ") do not fit data ", shape_str(data.shape()));
  for (int64_t d = 0; d < batch_dims; ++d) {
    TG_CHECK(indices.size(d) == data.size(d), "batch dim ", d, " differs: indices ", shape_str(indices.shape()),
             ", data ", shape_str(data.shape()));
  }
  std::vector<int64_t> strides(k);
  int64_t inner = 1;
  for (int64_t j = k - 1; j >= 0; --j) {
    strides[j] = inner;
    inner *= data.size(batch_dims + j);
  }
  Tensor lin = zeros(Shape(indices.shape().begin(), indices.shape().end() - 1), kInt64);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t n = data.size(batch_dims + j);
    const Tensor col = normalized_indices(select(indices, -1, j), n);
    lin = lin + col * strides[j];
  }
  int64_t batch = 1;
  for (int64_t d = 0; d < batch_dims; ++d) batch *= data.size(d);
  if (batch_dims > 0) {
    // Row offset of each batch entry: its flat batch number times the rows per batch.
    Shape bshape(lin.dim(), 1);
    for (int64_t d = 0; d < batch_dims; ++d) bshape[d] = data.size(d);
    lin = lin + arange(batch, kInt64).reshape(bshape) * inner;
  }
  *rows = batch * inner;
  return lin;
}

Shape rest_of(const Tensor& data, int64_t from) { return Shape(data.shape().begin() + from, data.shape().end()); }

Tensors gather_nd_onnx(C& c) {
  const Tensor& data = c.in(0);
  const Tensor& indices = c.in(1);
  const int64_t b = c.i("batch_dims", 0);
  int64_t rows;
  const Tensor lin = nd_rows(data, indices, b, &rows);
  const int64_t k = indices.size(indices.dim() - 1);
  Shape flat = {rows};
  for (int64_t d : rest_of(data, b + k)) flat.push_back(d);
  Shape out = lin.shape();
  for (int64_t d : rest_of(data, b + k)) out.push_back(d);
  return {index_select(data.reshape(flat), 0, lin.reshape({lin.numel()})).reshape(out)};
}

Tensors scatter_nd_onnx(C& c) {
  const Tensor& data = c.in(0);
  const Tensor& indices = c.in(1);
  const Tensor& updates = c.in(2);
  int64_t rows;
  const Tensor lin = nd_rows(data, indices, 0, &rows);
  const int64_t k = indices.size(indices.dim() - 1);
  Shape flat = {rows};
  for (int64_t d : rest_of(data, k)) flat.push_back(d);
  Shape upd = {lin.numel()};
  for (int64_t d : rest_of(data, k)) upd.push_back(d);
  const Tensor index = lin.reshape({lin.numel()});
  const Tensor source = updates.reshape(upd);
  const Tensor d2 = data.reshape(flat);
  const Tensor added = index_add(flat, 0, index, source);
  const std::string reduction = c.s("reduction", "none");
  if (reduction == "add") return {add(d2, added).reshape(data.shape())};
  TG_CHECK(reduction == "none", "reduction '", reduction, "' is not supported (none and add are)");
  const Tensor written = gt(index_add(flat, 0, index, ones_like(source)), 0);
  return {where(written, added, d2).reshape(data.shape())};
}

Tensors eye_like_onnx(C& c) {
  const Tensor& x = c.in(0);
  TG_CHECK(x.dim() == 2, "input must be 2-d, is ", shape_str(x.shape()));
  DType dtype = x.dtype();
  if (c.has("dtype")) {
    auto d = dtype_from_onnx(static_cast<int>(c.i("dtype")), "attribute 'dtype'");
    TG_CHECK(d.ok(), d.status().message());
    dtype = *d;
  }
  const int64_t k = c.i("k", 0);
  const Tensor rows = arange(x.size(0), kInt64).reshape({x.size(0), 1});
  const Tensor cols = arange(x.size(1), kInt64).reshape({1, x.size(1)});
  const Tensor on = eq(rows + k, cols);
  return {dtype == kBool ? on : to_dtype(on, dtype)};
}

Tensors compress_onnx(C& c) {
  const Tensor& x = c.in(0);
  const Tensor& condition = c.in(1);
  TG_CHECK(condition.dim() == 1, "condition must be 1-d, is ", shape_str(condition.shape()));
  const std::vector<int64_t> keep_flags = to_dtype(condition, kInt64).to_vector<int64_t>();
  const Tensor data = c.has("axis") ? x : x.reshape({x.numel()});
  const int64_t axis = c.has("axis") ? c.axis(c.i("axis"), x.dim()) : 0;
  TG_CHECK(static_cast<int64_t>(keep_flags.size()) <= data.size(axis), "condition has ", keep_flags.size(),
           " entries for a dimension of ", data.size(axis));
  std::vector<int64_t> keep;
  for (size_t i = 0; i < keep_flags.size(); ++i)
    if (keep_flags[i] != 0) keep.push_back(static_cast<int64_t>(i));
  return {index_select(data, axis, tensor(keep, {static_cast<int64_t>(keep.size())}))};
}

Tensors reverse_sequence_onnx(C& c) {
  const Tensor& x = c.in(0);
  const std::vector<int64_t> lens = c.int_values(1);
  const int64_t batch_axis = c.axis(c.i("batch_axis", 1), x.dim()), time_axis = c.axis(c.i("time_axis", 0), x.dim());
  TG_CHECK(batch_axis != time_axis, "batch_axis and time_axis are the same");
  const int64_t batch = x.size(batch_axis), time = x.size(time_axis);
  TG_CHECK(static_cast<int64_t>(lens.size()) == batch, "sequence_lens has ", lens.size(), " entries for batch ", batch);
  // Source time step of each (time, batch) position, broadcast over the other dims.
  std::vector<int64_t> src(time * batch);
  for (int64_t b = 0; b < batch; ++b) {
    TG_CHECK(lens[b] >= 0 && lens[b] <= time, "sequence length ", lens[b], " is outside [0, ", time, "]");
    for (int64_t t = 0; t < time; ++t) src[t * batch + b] = t < lens[b] ? lens[b] - 1 - t : t;
  }
  Shape ishape(x.dim(), 1);
  ishape[time_axis] = time;
  ishape[batch_axis] = batch;
  Tensor index = tensor(src, {time, batch});
  if (time_axis > batch_axis) index = index.transpose(0, 1);
  return {gather(x, time_axis, expand(index.reshape(ishape), x.shape()).contiguous())};
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "GatherND", .convert = gather_nd_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ScatterND", .convert = scatter_nd_onnx, .min_inputs = 3, .max_inputs = 3, .constant_inputs = {1}},
    {.op_type = "EyeLike", .convert = eye_like_onnx, .constant_inputs = {0}},
    {.op_type = "Compress", .convert = compress_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReverseSequence", .convert = reverse_sequence_onnx, .min_inputs = 2, .max_inputs = 2,
     .constant_inputs = {1}},
    {.op_type = "Reshape", .convert = reshape_onnx, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Flatten", .convert = flatten_onnx},
    {.op_type = "Transpose", .convert = transpose_onnx},
    {.op_type = "Squeeze", .convert = squeeze_onnx, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Unsqueeze", .convert = unsqueeze_onnx, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Concat", .convert = concat_onnx, .max_inputs = -1},
    {.op_type = "Split", .convert = split_onnx, .max_inputs = 2, .max_outputs = 1 << 16, .constant_inputs = {1}},
    {.op_type = "Slice", .convert = slice_onnx, .max_inputs = 5, .constant_inputs = {1, 2, 3, 4}},
    {.op_type = "Gather", .convert = gather_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "GatherElements", .convert = gather_elements_onnx, .min_inputs = 2, .max_inputs = 2,
     .constant_inputs = {1}},
    {.op_type = "ScatterElements", .convert = scatter_elements_onnx, .min_inputs = 3, .max_inputs = 3,
     .constant_inputs = {1}},
    {.op_type = "Scatter", .convert = scatter_elements_onnx, .min_inputs = 3, .max_inputs = 3,
     .constant_inputs = {1}, .max_opset = 10},
    {.op_type = "Expand", .convert = expand_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Tile", .convert = tile_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Pad", .convert = pad_onnx, .max_inputs = 4, .constant_inputs = {1, 2, 3}},
    {.op_type = "Shape", .convert = shape_onnx, .constant_inputs = {0}},
    {.op_type = "Size",
     .convert = [](C& c) -> Tensors { return {scalar_tensor(static_cast<double>(c.in(0).numel()), kInt64)}; },
     .constant_inputs = {0}},
    {.op_type = "Constant", .convert = constant_onnx, .min_inputs = 0, .max_inputs = 0},
    {.op_type = "ConstantOfShape", .convert = constant_of_shape_onnx, .constant_inputs = {0}},
    {.op_type = "Range", .convert = range_onnx, .min_inputs = 3, .max_inputs = 3, .constant_inputs = {0, 1, 2}},
    {.op_type = "Trilu", .convert = trilu_onnx, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "OneHot", .convert = one_hot_onnx, .min_inputs = 3, .max_inputs = 3, .constant_inputs = {0, 1, 2}},
    {.op_type = "DepthToSpace", .convert = depth_to_space_onnx},
    {.op_type = "SpaceToDepth", .convert = space_to_depth_onnx},
    {.op_type = "NonZero",
     .convert = [](C& c) -> Tensors { return {nonzero(c.in(0)).transpose(0, 1).contiguous()}; },
     .constant_inputs = {0}},
});

}  // namespace

}  // namespace tg::io
