// tapegrad/autograd/functions/shape.cc: op rows for views and layout: reshape, permute, slice
// (and its adjoint slice_backward), expand, contiguous, clone, to_dtype, cat; plus the
// compositions squeeze/unsqueeze/flatten/stack/sum_to.
#include <numeric>

#include "autograd/functions/common.h"
#include "ops/index.h"
#include "ops/reduce.h"

namespace tg {

namespace {

const OpDef& kReshape = define_op({
    .name = "reshape",
    .forward = [](ForwardContext& c) { return c.in(0).reshape(c.attrs.ints("shape")); },
    .backward = [](BackwardContext& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; },
    .attr_schema = {{"shape", AttrType::kInts}},
    .onnx = {{.op_type = "Reshape",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64List, "shape")}}},
});

// flatten(1, -1) is ONNX's Flatten (axis 1: [N, rest]); flatten(s, -1) keeps the first s dims
// (Reshape's 0 copies an input dim) and merges the rest; a flatten that stops before the last dim
// would need the input's shape.
std::string flatten_is_not_2d(const Attrs& a, const std::vector<bool>&) {
  return a.i("start_dim") == 1 && a.i("end_dim") == -1 ? "" : "Flatten merges from axis 1 to the end only";
}
std::string flatten_is_not_to_end(const Attrs& a, const std::vector<bool>&) {
  return a.i("end_dim") == -1 ? "" : "flatten up to a middle dim has no ONNX mapping";
}
std::vector<int64_t> flatten_target(const Attrs& a) {
  std::vector<int64_t> shape(a.i("start_dim"), 0);
  shape.push_back(-1);
  return shape;
}

// A row of its own (not a reshape with a concrete shape) so a traced graph stays independent of
// the batch size.
const OpDef& kFlatten = define_op({
    .name = "flatten",
    .forward = [](ForwardContext& c) { return c.in(0).flatten(c.attrs.i("start_dim"), c.attrs.i("end_dim")); },
    .backward = [](BackwardContext& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; },
    .attr_schema = {{"start_dim", AttrType::kInt}, {"end_dim", AttrType::kInt}},
    .onnx = {{.op_type = "Flatten", .fixed_ints = {{"axis", 1}}, .refuse = flatten_is_not_2d},
             {.op_type = "Reshape", .computed_shape = flatten_target, .refuse = flatten_is_not_to_end}},
});

// unflatten(x, dim, sizes) splits one dim; one size may be -1. A row of its own for the same
// reason as flatten: the other dims (the batch, a sequence length) stay out of its attributes.
Shape unflatten_shape(const Shape& in, int64_t dim, const Shape& sizes) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      TG_CHECK(infer < 0, "unflatten: only one size may be -1, got ", shape_str(sizes));
      infer = static_cast<int64_t>(i);
    } else {
      TG_CHECK(sizes[i] >= 0, "unflatten: invalid size in ", shape_str(sizes));
      known *= sizes[i];
    }
  }
  Shape resolved = sizes;
  if (infer >= 0) {
    TG_CHECK(known > 0 && in[dim] % known == 0, "unflatten: sizes ", shape_str(sizes), " do not divide dim ", dim,
             " of size ", in[dim]);
    resolved[infer] = in[dim] / known;
  }
  TG_CHECK(ops::shape_numel(resolved, "unflatten") == in[dim], "unflatten: sizes ", shape_str(sizes),
           " do not multiply to dim ", dim, " of size ", in[dim], " (input ", shape_str(in), ")");
  Shape out(in.begin(), in.begin() + dim);
  out.insert(out.end(), resolved.begin(), resolved.end());
  out.insert(out.end(), in.begin() + dim + 1, in.end());
  return out;
}
// ONNX Reshape: 0 copies the input's dim at the same index, so only a split of the last dim keeps
// the dims before it without knowing them.
std::string unflatten_is_not_last(const Attrs& a, const std::vector<bool>&) {
  return a.i("trailing") == 0 ? "" : "unflatten of a dim other than the last has no ONNX mapping";
}
std::vector<int64_t> unflatten_target(const Attrs& a) {
  std::vector<int64_t> shape(a.i("dim"), 0);
  for (int64_t s : a.ints("sizes")) shape.push_back(s);
  return shape;
}

const OpDef& kUnflatten = define_op({
    .name = "unflatten",
    .forward = [](ForwardContext& c) {
      const int64_t dim = c.attrs.i("dim");
      TG_CHECK(dim + 1 + c.attrs.i("trailing") == c.in(0).dim(), "unflatten: dim ", dim, " with ", c.attrs.i("trailing"),
               " dims after it does not fit input ", shape_str(c.in(0).shape()));
      return c.in(0).reshape(unflatten_shape(c.in(0).shape(), dim, c.attrs.ints("sizes")));
    },
    .backward = [](BackwardContext& c) -> Grads { return {reshape(c.grad, c.input_shape(0))}; },
    .attr_schema = {{"dim", AttrType::kInt}, {"sizes", AttrType::kInts}, {"trailing", AttrType::kInt}},
    .onnx = {{.op_type = "Reshape", .computed_shape = unflatten_target, .refuse = unflatten_is_not_last}},
});

// squeeze(dim) and unsqueeze(dim) are rows of their own (not reshapes to a concrete shape) for
// the same reason: attributes that do not name the batch or a length.
const OpDef& kSqueeze = define_op({
    .name = "squeeze",
    .forward = [](ForwardContext& c) {
      const int64_t dim = c.attrs.i("dim");
      TG_CHECK(dim < c.in(0).dim() && c.in(0).size(dim) == 1, "squeeze: dim ", dim, " of input ",
               shape_str(c.in(0).shape()), " is not of size 1");
      return c.in(0).squeeze(dim);
    },
    .backward = [](BackwardContext& c) -> Grads { return {unsqueeze(c.grad, c.attrs().i("dim"))}; },
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "Squeeze", .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64One, "dim")}}},
});

const OpDef& kUnsqueeze = define_op({
    .name = "unsqueeze",
    .forward = [](ForwardContext& c) {
      TG_CHECK(c.attrs.i("dim") <= c.in(0).dim(), "unsqueeze: dim ", c.attrs.i("dim"), " is out of range for input ",
               shape_str(c.in(0).shape()));
      return c.in(0).unsqueeze(c.attrs.i("dim"));
    },
    .backward = [](BackwardContext& c) -> Grads { return {squeeze(c.grad, c.attrs().i("dim"))}; },
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "Unsqueeze", .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64One, "dim")}}},
});

const OpDef& kPermute = define_op({
    .name = "permute",
    .forward = [](ForwardContext& c) { return c.in(0).permute(c.attrs.ints("dims")); },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& dims = c.attrs().ints("dims");
      Shape inverse(dims.size());
      for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int64_t>(i);
      return {permute(c.grad, inverse)};
    },
    .attr_schema = {{"dims", AttrType::kInts}},
    .onnx = {{.op_type = "Transpose", .attrs = {{"perm", "dims"}}}},
});

ops::Array slice_of(const ops::Array& x, const Attrs& a) {
  return x.slice(a.i("dim"), a.i("start"), a.i("end"), a.i("step"));
}

Attrs slice_attrs(const Attrs& a) {
  return {{"dim", a.i("dim")}, {"start", a.i("start")}, {"end", a.i("end")}, {"step", a.i("step")}};
}

const OpDef& kSliceBackward = define_op({
    .name = "slice_backward",
    .forward = [](ForwardContext& c) {
      ops::Array out = ops::Array::zeros(c.attrs.ints("input_shape"), c.in(0).dtype());
      ops::copy_into(slice_of(out, c.attrs), c.in(0));
      return out;
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Attrs& a = c.attrs();
      return {slice(c.grad, a.i("dim"), a.i("start"), a.i("end"), a.i("step"))};
    },
    .attr_schema = {{"dim", AttrType::kInt}, {"start", AttrType::kInt}, {"end", AttrType::kInt}, {"step", AttrType::kInt}, {"input_shape", AttrType::kInts}},
    .not_onnx = "backward-only row (the adjoint of slice)",
});

const OpDef& kSlice = define_op({
    .name = "slice",
    .forward = [](ForwardContext& c) { return slice_of(c.in(0), c.attrs); },
    .backward = [](BackwardContext& c) -> Grads {
      Attrs a = slice_attrs(c.attrs());
      a.set("input_shape", c.input_shape(0));
      return {apply_op(kSliceBackward, {c.grad}, a)};
    },
    .attr_schema = {{"dim", AttrType::kInt}, {"start", AttrType::kInt}, {"end", AttrType::kInt}, {"step", AttrType::kInt}},
    .onnx = {{.op_type = "Slice",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64One, "start"),
                         onnx_attr_in(OnnxInputForm::kInt64One, "end"), onnx_attr_in(OnnxInputForm::kInt64One, "dim"),
                         onnx_attr_in(OnnxInputForm::kInt64One, "step")}}},
});

// ONNX's Expand has no -1 ("keep this dim"): the traced shape is concrete, so this is rare.
std::string expand_keeps_a_dim(const Attrs& a, const std::vector<bool>&) {
  for (int64_t d : a.ints("shape"))
    if (d < 0) return "expand with -1 in its shape has no ONNX mapping";
  return "";
}

const OpDef& kExpand = define_op({
    .name = "expand",
    .forward = [](ForwardContext& c) { return c.in(0).expand(c.attrs.ints("shape")); },
    .backward = [](BackwardContext& c) -> Grads { return {sum_to(c.grad, c.input_shape(0))}; },
    .attr_schema = {{"shape", AttrType::kInts}},
    .onnx = {{.op_type = "Expand",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64List, "shape")},
              .refuse = expand_keeps_a_dim}},
});

// memory_format: a MemoryFormat code, absent for Contiguous (files written before the attribute).
MemoryFormat memory_format_attr(const Attrs& a) {
  if (!a.has("memory_format")) return MemoryFormat::Contiguous;
  const int64_t code = a.i("memory_format");
  TG_CHECK(code == static_cast<int64_t>(MemoryFormat::Contiguous) || code == static_cast<int64_t>(MemoryFormat::Preserve) ||
               code == static_cast<int64_t>(MemoryFormat::ChannelsLast),
           "contiguous: unknown memory_format code ", code);
  return static_cast<MemoryFormat>(code);
}

const OpDef& kContiguous = define_op({
    .name = "contiguous",
    .forward = [](ForwardContext& c) { return c.in(0).contiguous(memory_format_attr(c.attrs)); },
    .backward = [](BackwardContext& c) -> Grads { return {c.grad}; },
    .attr_schema = {{"memory_format", AttrType::kInt, -1, /*optional=*/true}},
    .onnx = {{.op_type = "Identity"}},  // ONNX tensors have no memory layout
});

const OpDef& kClone = define_op({
    .name = "clone",
    .forward = [](ForwardContext& c) { return c.in(0).clone(); },
    .backward = [](BackwardContext& c) -> Grads { return {c.grad}; },
    .onnx = {{.op_type = "Identity"}},
});

const OpDef& kToDtype = define_op({
    .name = "to_dtype",
    .forward = [](ForwardContext& c) {
      const int64_t code = c.attrs.i("dtype");
      TG_CHECK(code >= 0 && code <= static_cast<int64_t>(kBool), "to_dtype: unknown dtype code ", code);
      return c.in(0).to(static_cast<DType>(code));
    },
    .backward = [](BackwardContext& c) -> Grads { return {to_dtype(c.grad, c.input_dtype(0))}; },
    .attr_schema = {{"dtype", AttrType::kInt}},
    .onnx = {{.op_type = "Cast", .attrs = {{"to", "dtype", OnnxAttrForm::kDtype}}}},
});

const OpDef& kCat = define_op({
    .name = "cat",
    .forward = [](ForwardContext& c) { return ops::cat(c.inputs, c.attrs.i("dim")); },
    .backward = [](BackwardContext& c) -> Grads {
      const int64_t dim = c.attrs().i("dim");
      Grads grads;
      int64_t at = 0;
      for (size_t i = 0; i < c.num_inputs(); ++i) {
        const int64_t n = c.input_shape(i)[dim];
        grads.push_back(internal::if_needed(c, i, [&] { return narrow(c.grad, dim, at, n); }));
        at += n;
      }
      return grads;
    },
    .min_inputs = 1,
    .max_inputs = -1,
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "Concat", .attrs = {{"axis", "dim"}}}},
});

}  // namespace


// Note [Reshape keeps its -1]: the row records the shape as written, -1 included (the forward
// infers it again), so view({-1, 784}) is a graph that holds at any batch size; a literal batch
// (view({x.size(0), -1})) is recorded as a number, and the tracer then fixes the batch.
Tensor reshape(const Tensor& x, IntArrayRef shape) {
  const Shape target = ops::infer_shape(shape, x.numel(), "reshape");
  if (target == x.shape()) return x;
  return apply_op(kReshape, {x}, {{"shape", shape.vec()}});
}

Tensor view(const Tensor& x, IntArrayRef shape) {
  const Shape target = x.data().view(shape).shape();  // throws if not expressible as a view
  if (target == x.shape()) return x;
  return apply_op(kReshape, {x}, {{"shape", shape.vec()}});
}

Tensor permute(const Tensor& x, const Shape& dims) {
  const Shape checked = x.data().permute(dims).shape();  // validates dims
  (void)checked;
  Shape wrapped;
  for (int64_t d : dims) wrapped.push_back(ops::wrap_dim(d, x.dim(), "permute"));
  return apply_op(kPermute, {x}, {{"dims", wrapped}});
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  if (x.dim() == 0) return x;
  Shape perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[ops::wrap_dim(d0, x.dim(), "transpose")], perm[ops::wrap_dim(d1, x.dim(), "transpose")]);
  return apply_op(kPermute, {x}, {{"dims", perm}});
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  TG_CHECK(x.dim() > 0, "slice: cannot slice a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "slice");
  TG_CHECK(step > 0, "slice: step must be positive, got ", step);
  // Normalize like Python slicing so the recorded attributes are exact.
  const int64_t n = x.size(dim);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return apply_op(kSlice, {x}, {{"dim", dim}, {"start", start}, {"end", end}, {"step", step}});
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  TG_CHECK(x.dim() > 0, "narrow: cannot narrow a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "narrow");
  if (start < 0 && start >= -x.size(dim)) start += x.size(dim);  // narrow(1, -1, 1): the last one
  TG_CHECK(start >= 0 && length >= 0 && start + length <= x.size(dim), "narrow: range [", start, ", ",
           start + length, ") out of bounds for dimension ", dim, " of size ", x.size(dim), " (tensor ",
           shape_str(x.shape()), ")");
  return slice(x, dim, start, start + length);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const Shape target = x.data().expand(shape).shape();  // validates
  if (target == x.shape()) return x;
  return apply_op(kExpand, {x}, {{"shape", target}});
}

Tensor squeeze(const Tensor& x) { return reshape(x, x.data().squeeze().shape()); }
Tensor squeeze(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return x;
  dim = ops::wrap_dim(dim, x.dim(), "squeeze");
  return x.size(dim) == 1 ? apply_op(kSqueeze, {x}, {{"dim", dim}}) : x;  // as torch: a no-op otherwise
}
Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return apply_op(kUnsqueeze, {x}, {{"dim", ops::wrap_dim(dim, x.dim() + 1, "unsqueeze")}});
}
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = ops::wrap_dim(start_dim, x.dim(), "flatten");
  end_dim = ops::wrap_dim(end_dim, x.dim(), "flatten");
  TG_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " > end_dim ", end_dim);
  if (start_dim == end_dim) return x;
  // "to the last dim" is recorded as -1 so the attribute reads the same for any input rank.
  return apply_op(kFlatten, {x}, {{"start_dim", start_dim}, {"end_dim", end_dim == x.dim() - 1 ? -1 : end_dim}});
}

Tensor unflatten(const Tensor& x, int64_t dim, IntArrayRef sizes) {
  TG_CHECK(x.dim() > 0, "unflatten: input must have at least one dim");
  dim = ops::wrap_dim(dim, x.dim(), "unflatten");
  TG_CHECK(!sizes.vec().empty(), "unflatten: sizes must not be empty");
  unflatten_shape(x.shape(), dim, sizes);  // checked here, where the user's call is
  return apply_op(kUnflatten, {x}, {{"dim", dim}, {"sizes", sizes.vec()}, {"trailing", x.dim() - dim - 1}});
}

Tensor contiguous(const Tensor& x, MemoryFormat format) {
  switch (format) {
    case MemoryFormat::Contiguous:
      return x.is_contiguous() ? x : apply_op(kContiguous, {x});
    case MemoryFormat::Preserve:
      if (x.data().is_flat()) return x;
      break;
    case MemoryFormat::ChannelsLast:
      TG_CHECK(x.dim() == 4, "contiguous: channels_last needs a 4-d tensor [N, C, H, W], got ", shape_str(x.shape()));
      if (x.suggest_memory_format() == MemoryFormat::ChannelsLast) return x;
      break;
  }
  return apply_op(kContiguous, {x}, {{"memory_format", static_cast<int64_t>(format)}});
}
Tensor clone(const Tensor& x) { return apply_op(kClone, {x}); }
Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  return apply_op(kToDtype, {x}, {{"dtype", static_cast<int64_t>(dtype)}});
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  TG_CHECK(x.dim() >= static_cast<int64_t>(shape.size()), "sum_to: cannot sum ", shape_str(x.shape()),
           " to ", shape_str(shape));
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  Shape dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead];
    if (want == x.size(d)) continue;
    TG_CHECK(want == 1, "sum_to: cannot sum ", shape_str(x.shape()), " to ", shape_str(shape));
    dims.push_back(d);
  }
  Tensor s = dims.empty() ? x : sum(x, dims, /*keepdim=*/true);
  return reshape(s, shape);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) TG_CHECK(tensors[i].defined(), "cat: tensor ", i, " is undefined");
  TG_CHECK(tensors[0].dim() > 0, "cat: zero-dimensional tensors cannot be concatenated");
  return apply_op(kCat, tensors, {{"dim", ops::wrap_dim(dim, tensors[0].dim(), "cat")}});
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  dim = ops::wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TG_CHECK(tensors[i].shape() == tensors[0].shape(), "stack: tensor ", i, " ", shape_str(tensors[i].shape()),
             " differs from tensor 0 ", shape_str(tensors[0].shape()));
    parts.push_back(unsqueeze(tensors[i], dim));
  }
  return cat(parts, dim);
}

}  // namespace tg
