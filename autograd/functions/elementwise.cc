// tapegrad/autograd/functions/elementwise.cc: op rows for arithmetic (add, sub, mul, div, pow, neg, sin, cos,
// exp, log, sqrt, abs, clamp, where) and comparisons, plus the operator overloads.
#include "autograd/functions/common.h"
#include "ops/elementwise.h"

namespace tg {

using internal::constant;
using internal::if_needed;
using internal::scalar_like;
using ops::BinaryOp;
using ops::UnaryOp;

namespace {

template <BinaryOp kOp>
ops::Array binary_forward(ForwardContext& c) {
  return ops::binary(kOp, c.in(0), c.in(1));
}
template <UnaryOp kOp>
ops::Array unary_forward(ForwardContext& c) {
  return ops::unary(kOp, c.in(0));
}

const OpDef& kAdd = define_op({
    .name = "add",
    .forward = binary_forward<BinaryOp::kAdd>,
    .backward = [](BackwardContext& c) -> Grads {
      return {if_needed(c, 0, [&] { return sum_to(c.grad, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(c.grad, c.input_shape(1)); })};
    },
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Add"}},
});

const OpDef& kSub = define_op({
    .name = "sub",
    .forward = binary_forward<BinaryOp::kSub>,
    .backward = [](BackwardContext& c) -> Grads {
      return {if_needed(c, 0, [&] { return sum_to(c.grad, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(neg(c.grad), c.input_shape(1)); })};
    },
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Sub"}},
});

const OpDef& kMul = define_op({
    .name = "mul",
    .forward = binary_forward<BinaryOp::kMul>,
    .backward = [](BackwardContext& c) -> Grads {
      return {if_needed(c, 0, [&] { return sum_to(c.grad * c.input(1), c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(c.grad * c.input(0), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Mul"}},
});

// True division, as in PyTorch; on integers that needs type promotion, so until tapegrad has it
// an integer division is refused rather than truncated (arange(5) / 2 is not [0, 0, 1, 1, 2]).
// Checked in the row, so a loaded graph is refused too.
ops::Array div_forward(ForwardContext& c) {
  const ops::Array &a = c.in(0), &b = c.in(1);
  TG_CHECK(is_floating(a.dtype()) || is_floating(b.dtype()), "div: ", dtype_name(a.dtype()), " ",
           shape_str(a.shape()), " / ", dtype_name(b.dtype()), " ", shape_str(b.shape()),
           " is true division, which would need type promotion (not supported yet); convert first, e.g. "
           "to_dtype(x, kFloat32)");
  return ops::binary(BinaryOp::kDiv, a, b);
}

const OpDef& kDiv = define_op({
    .name = "div",
    .forward = div_forward,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor b = c.input(1);
      return {if_needed(c, 0, [&] { return sum_to(c.grad / b, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(neg(c.grad) * c.input(0) / (b * b), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Div"}},
});

const OpDef& kPow = define_op({
    .name = "pow",
    .forward = binary_forward<BinaryOp::kPow>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor a = c.input(0), b = c.input(1);
      return {if_needed(c, 0, [&] { return sum_to(c.grad * b * pow(a, b - 1.0), c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(c.grad * c.output() * log(a), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .save_output = true,
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Pow"}},
});

const OpDef& kNeg = define_op({
    .name = "neg",
    .forward = unary_forward<UnaryOp::kNeg>,
    .backward = [](BackwardContext& c) -> Grads { return {neg(c.grad)}; },
    .onnx = {{.op_type = "Neg"}},
});

const OpDef& kExp = define_op({
    .name = "exp",
    .forward = unary_forward<UnaryOp::kExp>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * c.output()}; },
    .save_output = true,
    .onnx = {{.op_type = "Exp"}},
});

const OpDef& kLog = define_op({
    .name = "log",
    .forward = unary_forward<UnaryOp::kLog>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / c.input(0)}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Log"}},
});

const OpDef& kSqrt = define_op({
    .name = "sqrt",
    .forward = unary_forward<UnaryOp::kSqrt>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / (c.output() * 2.0)}; },
    .save_output = true,
    .onnx = {{.op_type = "Sqrt"}},
});

const OpDef& kAbs = define_op({
    .name = "abs",
    .forward = unary_forward<UnaryOp::kAbs>,
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * constant(ops::unary(UnaryOp::kSign, c.input(0).data()))};
    },
    .save_inputs = {0},
    .onnx = {{.op_type = "Abs"}},
});

// sin and cos are each other's derivatives (up to sign), so both are differentiable to any order.
const OpDef& kCos = define_op({
    .name = "cos",
    .forward = unary_forward<UnaryOp::kCos>,
    .backward = [](BackwardContext& c) -> Grads { return {neg(c.grad * sin(c.input(0)))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Cos"}},
});

const OpDef& kSin = define_op({
    .name = "sin",
    .forward = unary_forward<UnaryOp::kSin>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * cos(c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Sin"}},
});

std::optional<double> optional_attr(const Attrs& a, const char* name) {
  return a.has(name) ? std::optional<double>(a.f(name)) : std::nullopt;
}

const OpDef& kClamp = define_op({
    .name = "clamp",
    .forward = [](ForwardContext& c) {
      return ops::clamp(c.in(0), optional_attr(c.attrs, "min"), optional_attr(c.attrs, "max"));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * constant(ops::clamp_mask(c.input(0).data(), optional_attr(c.attrs(), "min"),
                                                optional_attr(c.attrs(), "max")))};
    },
    .save_inputs = {0},
    .attr_schema = {{"min", AttrType::kFloat, -1, true}, {"max", AttrType::kFloat, -1, true}},
    .onnx = {{.op_type = "Clip",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kScalar, "min"),
                         onnx_attr_in(OnnxInputForm::kScalar, "max")}}},
});

const OpDef& kWhere = define_op({
    .name = "where",
    .forward = [](ForwardContext& c) { return ops::where(c.in(0), c.in(1), c.in(2)); },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor cond = c.input(0), zero = scalar_like(0.0, c.grad, "where");
      return {Tensor(), if_needed(c, 1, [&] { return sum_to(where(cond, c.grad, zero), c.input_shape(1)); }),
              if_needed(c, 2, [&] { return sum_to(where(cond, zero, c.grad), c.input_shape(2)); })};
    },
    .save_inputs = {0},
    .min_inputs = 3,
    .max_inputs = 3,
    .onnx = {{.op_type = "Where"}},
});

template <ops::CompareOp kOp>
ops::Array compare_forward(ForwardContext& c) {
  return ops::compare(kOp, c.in(0), c.in(1));
}
const OpDef& kGt = define_op({.name = "gt", .forward = compare_forward<ops::CompareOp::kGt>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "Greater"}}});
const OpDef& kLt = define_op({.name = "lt", .forward = compare_forward<ops::CompareOp::kLt>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "Less"}}});
const OpDef& kEq = define_op({.name = "eq", .forward = compare_forward<ops::CompareOp::kEq>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "Equal"}}});

}  // namespace


Tensor add(const Tensor& a, const Tensor& b) { return apply_op(kAdd, {a, b}); }
Tensor sub(const Tensor& a, const Tensor& b) { return apply_op(kSub, {a, b}); }
Tensor mul(const Tensor& a, const Tensor& b) { return apply_op(kMul, {a, b}); }
Tensor div(const Tensor& a, const Tensor& b) { return apply_op(kDiv, {a, b}); }
Tensor pow(const Tensor& a, const Tensor& b) { return apply_op(kPow, {a, b}); }
Tensor pow(const Tensor& a, double b) { return apply_op(kPow, {a, scalar_like(b, a, "pow")}); }
Tensor neg(const Tensor& x) { return apply_op(kNeg, {x}); }
Tensor exp(const Tensor& x) { return apply_op(kExp, {x}); }
Tensor log(const Tensor& x) { return apply_op(kLog, {x}); }
Tensor sqrt(const Tensor& x) { return apply_op(kSqrt, {x}); }
Tensor abs(const Tensor& x) { return apply_op(kAbs, {x}); }
Tensor sin(const Tensor& x) { return apply_op(kSin, {x}); }
Tensor cos(const Tensor& x) { return apply_op(kCos, {x}); }
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  TG_CHECK(!min || !max || *min <= *max, "clamp: min ", *min, " > max ", *max);
  Attrs attrs;
  if (min) attrs.set("min", *min);
  if (max) attrs.set("max", *max);
  return apply_op(kClamp, {x}, attrs);
}
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) { return apply_op(kWhere, {cond, a, b}); }
Tensor gt(const Tensor& a, const Tensor& b) { return apply_op(kGt, {a, b}); }
Tensor lt(const Tensor& a, const Tensor& b) { return apply_op(kLt, {a, b}); }
Tensor eq(const Tensor& a, const Tensor& b) { return apply_op(kEq, {a, b}); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(b, a, "add")); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(b, a, "sub")); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(b, a, "mul")); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(b, a, "div")); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(a, b, "add"), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(a, b, "sub"), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(a, b, "mul"), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(a, b, "div"), b); }

}  // namespace tg
