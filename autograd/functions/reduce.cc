// tapegrad/autograd/functions/reduce.cc: op rows for sum, mean, logsumexp, max/min along a dim
// and over all elements, and argmax (not differentiable).
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace tg {

using internal::constant;

namespace {

// The reduced gradient reshaped so it broadcasts against the input (reduced dims kept as 1).
Tensor unreduce(const Tensor& g, const Shape& input_shape, const Shape& dims, bool keepdim) {
  if (keepdim) return g;
  return reshape(g, ops::reduced_shape(input_shape, dims, /*keepdim=*/true));
}

Shape dims_attr(const BackwardContext& c) {
  return ops::normalize_dims(c.attrs().ints("dims"), c.input_shape(0).size(), "sum");
}

const OpDef& kSum = define_op({
    .name = "sum",
    .forward = [](ForwardContext& c) { return ops::sum(c.in(0), c.attrs.ints("dims"), c.attrs.b("keepdim")); },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& shape = c.input_shape(0);
      return {expand(unreduce(c.grad, shape, dims_attr(c), c.attrs().b("keepdim")), shape)};
    },
    .attr_schema = {{"dims", AttrType::kInts}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceSum",  // opset 13 takes the axes as an input
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64ListOrNone, "dims")},
              .attrs = {{"keepdims", "keepdim"}}}},
});

int64_t reduced_count(const Shape& shape, const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d];
  return n;
}

const OpDef& kMean = define_op({
    .name = "mean",
    .forward = [](ForwardContext& c) {
      const Shape dims = ops::normalize_dims(c.attrs.ints("dims"), c.in(0).dim(), "mean");
      ops::Array s = ops::sum(c.in(0), dims, c.attrs.b("keepdim"));
      return ops::scale(s, 1.0 / static_cast<double>(reduced_count(c.in(0).shape(), dims)));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& shape = c.input_shape(0);
      const Shape dims = dims_attr(c);
      const Tensor g = unreduce(c.grad, shape, dims, c.attrs().b("keepdim"));
      return {expand(g / static_cast<double>(reduced_count(shape, dims)), shape)};
    },
    .attr_schema = {{"dims", AttrType::kInts}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceMean", .attrs = {{"axes", "dims"}, {"keepdims", "keepdim"}}}},
});

// d logsumexp(x) / dx = exp(x - logsumexp(x))
const OpDef& kLogSumExp = define_op({
    .name = "logsumexp",
    .forward = [](ForwardContext& c) {
      return ops::logsumexp(c.in(0), c.attrs.ints("dims"), c.attrs.b("keepdim"));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& shape = c.input_shape(0);
      const Shape dims = dims_attr(c);
      const bool keepdim = c.attrs().b("keepdim");
      const Tensor out = unreduce(c.output(), shape, dims, keepdim);
      return {unreduce(c.grad, shape, dims, keepdim) * exp(c.input(0) - out)};
    },
    .save_inputs = {0},
    .save_output = true,
    .attr_schema = {{"dims", AttrType::kInts}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceLogSumExp", .attrs = {{"axes", "dims"}, {"keepdims", "keepdim"}}}},
});

// max/min along a dim: the gradient goes to the selected element (the first extremum).
Grads extremum_backward(BackwardContext& c) {
  const Shape& shape = c.input_shape(0);
  if (shape.empty()) return {c.grad};
  const int64_t dim = c.attrs().i("dim");
  const bool keepdim = c.attrs().b("keepdim");
  const Tensor g = unreduce(c.grad, shape, {dim}, keepdim);
  const Tensor idx = unreduce(c.extra(0), shape, {dim}, keepdim);
  return {scatter_add(shape, dim, idx, g)};
}

const OpDef& kMaxDim = define_op({
    .name = "max_dim",
    .forward = [](ForwardContext& c) {
      auto [values, indices] = ops::max_along(c.in(0), c.attrs.i("dim"), c.attrs.b("keepdim"));
      c.extras.push_back(indices);
      return values;
    },
    .backward = extremum_backward,
    .attr_schema = {{"dim", AttrType::kInt}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceMax",
              .attrs = {{"axes", "dim", OnnxAttrForm::kIntToList}, {"keepdims", "keepdim"}}}},
});

const OpDef& kMinDim = define_op({
    .name = "min_dim",
    .forward = [](ForwardContext& c) {
      auto [values, indices] = ops::min_along(c.in(0), c.attrs.i("dim"), c.attrs.b("keepdim"));
      c.extras.push_back(indices);
      return values;
    },
    .backward = extremum_backward,
    .attr_schema = {{"dim", AttrType::kInt}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceMin",
              .attrs = {{"axes", "dim", OnnxAttrForm::kIntToList}, {"keepdims", "keepdim"}}}},
});

// max/min over all elements. As in PyTorch, tied extrema share the gradient evenly (a NaN result
// shares it among the NaNs): the subgradient that treats the tied elements alike.
template <bool kMax>
ops::Array extremum_all_forward(ForwardContext& c) {
  const ops::Array flat = c.in(0).reshape({-1});
  return (kMax ? ops::max_along(flat, 0, false) : ops::min_along(flat, 0, false)).first;
}
Grads extremum_all_backward(BackwardContext& c) {
  const ops::Array x = c.input(0).data(), value = c.output().data();
  const bool nan = std::isnan(value.to(kFloat64).data<double>()[0]);
  const ops::Array ties = (nan ? ops::compare(ops::CompareOp::kNe, x, x) : ops::compare(ops::CompareOp::kEq, x, value))
                              .to(x.dtype());
  const ops::Array count = ops::sum(ties, {}, false);  // >= 1: the extremum is one of the elements
  return {c.grad * constant(ops::binary(ops::BinaryOp::kDiv, ties, count))};
}

const OpDef& kMaxAll = define_op({
    .name = "max_all",
    .forward = extremum_all_forward<true>,
    .backward = extremum_all_backward,
    .save_inputs = {0},
    .save_output = true,
    .onnx = {{.op_type = "ReduceMax", .fixed_ints = {{"keepdims", 0}}}},
});

const OpDef& kMinAll = define_op({
    .name = "min_all",
    .forward = extremum_all_forward<false>,
    .backward = extremum_all_backward,
    .save_inputs = {0},
    .save_output = true,
    .onnx = {{.op_type = "ReduceMin", .fixed_ints = {{"keepdims", 0}}}},
});

const OpDef& kArgMax = define_op({
    .name = "argmax",
    .forward = [](ForwardContext& c) {
      return ops::max_along(c.in(0), c.attrs.i("dim"), c.attrs.b("keepdim")).second;
    },
    .attr_schema = {{"dim", AttrType::kInt}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ArgMax", .attrs = {{"axis", "dim"}, {"keepdims", "keepdim"}}}},
});

std::tuple<Tensor, Tensor> extremum(const OpDef& op, const Tensor& x, int64_t dim, bool keepdim) {
  TG_CHECK(x.numel() > 0, op.name, ": cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  dim = ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), op.name.c_str());
  std::vector<ops::Array> extras;
  Tensor values = apply_op(op, {x}, {{"dim", dim}, {"keepdim", keepdim}}, nullptr, &extras);
  return {values, constant(extras.at(0))};
}

}  // namespace


Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim) {
  // A bool sum counts: it is int64, as in PyTorch.
  return apply_op(kSum, {x.dtype() == kBool ? to_dtype(x, kInt64) : x}, {{"dims", ops::normalize_dims(dims, x.dim(), "sum")}, {"keepdim", keepdim}});
}
Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim) {
  TG_CHECK(is_floating(x.dtype()), "mean: expected a floating tensor, got ", dtype_name(x.dtype()));
  return apply_op(kMean, {x}, {{"dims", ops::normalize_dims(dims, x.dim(), "mean")}, {"keepdim", keepdim}});
}
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim) {
  return apply_op(kLogSumExp, {x},
                  {{"dims", ops::normalize_dims(dims, x.dim(), "logsumexp")}, {"keepdim", keepdim}});
}
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum(kMaxDim, x, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum(kMinDim, x, dim, keepdim);
}
Tensor max(const Tensor& x) {
  TG_CHECK(x.numel() > 0, "max: cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  return apply_op(kMaxAll, {x});
}
Tensor min(const Tensor& x) {
  TG_CHECK(x.numel() > 0, "min: cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  return apply_op(kMinAll, {x});
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  TG_CHECK(x.numel() > 0, "argmax: cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  dim = ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "argmax");
  return apply_op(kArgMax, {x}, {{"dim", dim}, {"keepdim", keepdim}});
}
Tensor argmax(const Tensor& x) { return argmax(reshape(x, {-1}), 0, false); }

}  // namespace tg
