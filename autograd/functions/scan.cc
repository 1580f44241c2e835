// tapegrad/autograd/functions/scan.cc: op rows for cumsum, cumprod, prod, sort, topk, argmin and
// norm (p = 2), and the compositions var, std, norm (other p), any, all, argsort.
#include <cmath>
#include <limits>

#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/scan.h"

namespace tg {

using internal::constant;

namespace {

const OpDef& kCumsum = define_op({
    .name = "cumsum",
    .forward = [](ForwardContext& c) { return ops::cumsum(c.in(0), c.attrs.i("dim")); },
    // The adjoint of a running sum is the running sum from the other end.
    .backward = [](BackwardContext& c) -> Grads {
      const int64_t dim = c.attrs().i("dim");
      return {c.input_shape(0).empty() ? c.grad : flip(cumsum(flip(c.grad, {dim}), dim), {dim})};
    },
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "CumSum", .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64One, "dim")}}},
});

const OpDef& kCumprod = define_op({
    .name = "cumprod",
    .forward = [](ForwardContext& c) { return ops::cumprod(c.in(0), c.attrs.i("dim")); },
    .backward = [](BackwardContext& c) -> Grads {
      return {constant(ops::cumprod_backward(c.input(0).data(), c.grad.data(), c.attrs().i("dim")))};
    },
    .save_inputs = {0},
    .double_differentiable = false,  // the gradient is a recurrence over x, computed grad-free
    .attr_schema = {{"dim", AttrType::kInt}},
    .not_onnx = "ONNX (opset 13) has no cumulative product",
});

// prod along a dim (dims: one, or empty for all elements); the gradient is the product of the
// other elements, exact with zeros.
const OpDef& kProd = define_op({
    .name = "prod",
    .forward = [](ForwardContext& c) {
      const ops::Array& x = c.in(0);
      const Shape& dims = c.attrs.ints("dims");
      const ops::Array flat = dims.empty() ? x.reshape({-1}) : x;
      const int64_t d = dims.empty() ? 0 : dims[0];
      const ops::Array running = ops::cumprod(flat, d);
      ops::Array out = running.narrow(d, flat.size(d) - 1, 1).contiguous();
      if (dims.empty()) return out.reshape({});
      return c.attrs.b("keepdim") ? out : out.squeeze(d);
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& shape = c.input_shape(0);
      const Shape& dims = c.attrs().ints("dims");
      const ops::Array x = c.input(0).data();
      if (dims.empty()) {
        const ops::Array others = ops::product_of_others(x.reshape({-1}), 0).reshape(shape);
        return {c.grad * constant(others)};
      }
      const Tensor g = c.attrs().b("keepdim") ? c.grad : unsqueeze(c.grad, dims[0]);
      return {g * constant(ops::product_of_others(x, dims[0]))};
    },
    .save_inputs = {0},
    .double_differentiable = false,
    .attr_schema = {{"dims", AttrType::kInts}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceProd", .attrs = {{"axes", "dims"}, {"keepdims", "keepdim"}}}},
});

// sort and topk keep the indices as an extra; the gradient scatters back to them.
Grads scatter_to_indices(BackwardContext& c) {
  const Shape& shape = c.input_shape(0);
  if (shape.empty()) return {c.grad};
  return {scatter_add(shape, c.attrs().i("dim"), c.extra(0), c.grad)};
}

const OpDef& kSort = define_op({
    .name = "sort",
    .forward = [](ForwardContext& c) {
      auto [values, indices] = ops::sort(c.in(0), c.attrs.i("dim"), c.attrs.b("descending"));
      c.extras.push_back(indices);
      return values;
    },
    .backward = scatter_to_indices,
    .attr_schema = {{"dim", AttrType::kInt}, {"descending", AttrType::kBool}},
    .not_onnx = "a full sort is TopK with k = the dim's size, which a traced graph would fix; use topk",
});

const OpDef& kTopk = define_op({
    .name = "topk",
    .forward = [](ForwardContext& c) {
      auto [values, indices] = ops::topk(c.in(0), c.attrs.i("k"), c.attrs.i("dim"), c.attrs.b("largest"));
      c.extras.push_back(indices);
      return values;
    },
    .backward = scatter_to_indices,
    .attr_schema = {{"k", AttrType::kInt}, {"dim", AttrType::kInt}, {"largest", AttrType::kBool}},
    .onnx = {{.op_type = "TopK",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64One, "k")},
              .attrs = {{"axis", "dim"}, {"largest", "largest"}},
              .fixed_ints = {{"sorted", 1}},
              .unused_outputs = 1}},  // the indices
});

const OpDef& kArgMin = define_op({
    .name = "argmin",
    .forward = [](ForwardContext& c) {
      return ops::min_along(c.in(0), c.attrs.i("dim"), c.attrs.b("keepdim")).second;
    },
    .attr_schema = {{"dim", AttrType::kInt}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ArgMin", .attrs = {{"axis", "dim"}, {"keepdims", "keepdim"}}}},
});

// The 2-norm, with PyTorch's gradient at the origin: 0, not NaN (x / |x| there is 0/0).
const OpDef& kNorm2 = define_op({
    .name = "norm2",
    .forward = [](ForwardContext& c) {
      const ops::Array& x = c.in(0);
      const ops::Array s = ops::sum(ops::binary(ops::BinaryOp::kMul, x, x), c.attrs.ints("dims"), c.attrs.b("keepdim"));
      return ops::unary(ops::UnaryOp::kSqrt, s);
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& shape = c.input_shape(0);
      const Shape dims = ops::normalize_dims(c.attrs().ints("dims"), shape.size(), "norm");
      const bool keepdim = c.attrs().b("keepdim");
      const Shape kept = ops::reduced_shape(shape, dims, true);
      const Tensor n = keepdim ? c.output() : reshape(c.output(), kept);
      const Tensor g = keepdim ? c.grad : reshape(c.grad, kept);
      const Tensor zero = constant(ops::compare(ops::CompareOp::kEq, n.data(), ops::Array::scalar(0, n.dtype())));
      return {c.input(0) * where(zero, zeros({}, n.dtype()), g / where(zero, ones({}, n.dtype()), n))};
    },
    .save_inputs = {0},
    .save_output = true,
    .attr_schema = {{"dims", AttrType::kInts}, {"keepdim", AttrType::kBool}},
    .onnx = {{.op_type = "ReduceL2", .attrs = {{"axes", "dims"}, {"keepdims", "keepdim"}}}},
});

int64_t reduction_dim(const Tensor& x, int64_t dim, const char* op) {
  return ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), op);
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  const Tensor in = x.dtype() == kBool ? to_dtype(x, kInt64) : x;
  return apply_op(kCumsum, {in}, {{"dim", reduction_dim(x, dim, "cumsum")}});
}
Tensor cumprod(const Tensor& x, int64_t dim) {
  const Tensor in = x.dtype() == kBool ? to_dtype(x, kInt64) : x;
  return apply_op(kCumprod, {in}, {{"dim", reduction_dim(x, dim, "cumprod")}});
}
Tensor prod(const Tensor& x) {
  if (x.numel() == 0) return ones({}, x.dtype());  // the empty product
  return apply_op(kProd, {x.dtype() == kBool ? to_dtype(x, kInt64) : x}, {{"dims", Shape{}}, {"keepdim", false}});
}
Tensor prod(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = reduction_dim(x, dim, "prod");
  if (x.dim() == 0) return x;
  if (x.size(d) == 0) {
    Shape s = ops::reduced_shape(x.shape(), {d}, keepdim);
    return ones(s, x.dtype());
  }
  return apply_op(kProd, {x.dtype() == kBool ? to_dtype(x, kInt64) : x}, {{"dims", Shape{d}}, {"keepdim", keepdim}});
}

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  std::vector<ops::Array> extras;
  Tensor values = apply_op(kSort, {x}, {{"dim", reduction_dim(x, dim, "sort")}, {"descending", descending}}, nullptr, &extras);
  return {values, constant(extras.at(0))};
}
Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  NoGradGuard no_grad;
  return std::get<1>(sort(x, dim, descending));
}
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  (void)sorted;  // always sorted (ONNX's TopK too)
  std::vector<ops::Array> extras;
  Tensor values = apply_op(kTopk, {x}, {{"k", k}, {"dim", reduction_dim(x, dim, "topk")}, {"largest", largest}}, nullptr, &extras);
  return {values, constant(extras.at(0))};
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  TG_CHECK(x.numel() > 0, "argmin: cannot reduce an empty tensor of shape ", shape_str(x.shape()));
  return apply_op(kArgMin, {x}, {{"dim", reduction_dim(x, dim, "argmin")}, {"keepdim", keepdim}});
}
Tensor argmin(const Tensor& x) { return argmin(reshape(x, {-1}), 0, false); }

Tensor var(const Tensor& x, IntArrayRef dims, bool unbiased, bool keepdim) {
  TG_CHECK(is_floating(x.dtype()), "var: expected a floating tensor, got ", dtype_name(x.dtype()));
  const Shape d = ops::normalize_dims(dims, x.dim(), "var");
  int64_t n = d.empty() ? x.numel() : 1;
  for (int64_t k : d) n *= x.size(k);
  const Tensor centred = x - mean(x, dims, /*keepdim=*/true);
  // n - 1 <= 0 gives inf or NaN, as in PyTorch.
  return sum(centred * centred, dims, keepdim) / static_cast<double>(unbiased ? n - 1 : n);
}
Tensor std(const Tensor& x, IntArrayRef dims, bool unbiased, bool keepdim) { return sqrt(var(x, dims, unbiased, keepdim)); }

Tensor norm(const Tensor& x, double p, IntArrayRef dims, bool keepdim) {
  TG_CHECK(is_floating(x.dtype()), "norm: expected a floating tensor, got ", dtype_name(x.dtype()));
  const Shape d = ops::normalize_dims(dims, x.dim(), "norm");
  if (p == 2) return apply_op(kNorm2, {x}, {{"dims", d}, {"keepdim", keepdim}});
  if (p == 1) return sum(abs(x), dims, keepdim);
  if (std::isinf(p)) {
    TG_CHECK(p > 0, "norm: p = -inf is not supported");
    const Tensor a = abs(x);
    if (d.empty() || static_cast<int64_t>(d.size()) == x.dim()) {
      const Tensor m = max(a);
      return keepdim ? reshape(m, Shape(x.dim(), 1)) : m;
    }
    TG_CHECK(d.size() == 1, "norm: p = inf over several (not all) dims is not supported");
    return std::get<0>(max(a, d[0], keepdim));
  }
  TG_CHECK(p > 0, "norm: p must be positive, got ", p);
  return pow(sum(pow(abs(x), p), dims, keepdim), 1.0 / p);
}

Tensor any(const Tensor& x) {
  NoGradGuard no_grad;
  return sum(x != 0) > 0;
}
Tensor any(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return sum(x != 0, {dim}, keepdim) > 0;
}
Tensor all(const Tensor& x) {
  NoGradGuard no_grad;
  return sum(x == 0) == 0;
}
Tensor all(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return sum(x == 0, {dim}, keepdim) == 0;
}

}  // namespace tg
