// tapegrad/autograd/functions/elementwise.cc: op rows for arithmetic (add, sub, mul, div, pow, neg, sin, cos,
// exp, log, sqrt, abs, clamp, where) and comparisons, plus the operator overloads.
#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "ops/elementwise.h"

namespace tg {

using internal::constant;
using internal::if_needed;
using internal::scalar_like;
using ops::BinaryOp;
using ops::UnaryOp;

namespace {

using internal::binary_forward;
using internal::unary_forward;

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

// True division, as in PyTorch: div() promotes integers to float32 before the row runs (Note
// [Type promotion]); the row itself refuses integers, so a (malformed) loaded graph cannot
// truncate either.
ops::Array div_forward(ForwardContext& c) {
  const ops::Array &a = c.in(0), &b = c.in(1);
  TG_CHECK(is_floating(a.dtype()) || is_floating(b.dtype()), "div: ", dtype_name(a.dtype()), " ",
           shape_str(a.shape()), " / ", dtype_name(b.dtype()), " ", shape_str(b.shape()),
           " is true division: the operands must be floating (div() converts them; floor_divide divides "
           "integers)");
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
const OpDef& kGe = define_op({.name = "ge", .forward = compare_forward<ops::CompareOp::kGe>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "GreaterOrEqual"}}});
const OpDef& kLe = define_op({.name = "le", .forward = compare_forward<ops::CompareOp::kLe>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "LessOrEqual"}}});
const OpDef& kNe = define_op({.name = "ne", .forward = compare_forward<ops::CompareOp::kNe>, .min_inputs = 2, .max_inputs = 2,
                 .onnx = {{.op_type = "Not(Equal(a, b))", .steps = {{.op_type = "Equal"}, {.op_type = "Not", .inputs = {onnx_step(0)}}}}}});

}  // namespace


using internal::promoted;
using internal::scalar_operand;

// Note [Type promotion]: each binary function converts its operands first (internal::promoted).
#define TG_PROMOTED(fn, row)                            \
  Tensor fn(const Tensor& a, const Tensor& b) {         \
    auto [pa, pb] = promoted(a, b);                     \
    return apply_op(row, {pa, pb});                     \
  }
TG_PROMOTED(add, kAdd)
TG_PROMOTED(sub, kSub)
TG_PROMOTED(mul, kMul)
TG_PROMOTED(gt, kGt)
TG_PROMOTED(lt, kLt)
TG_PROMOTED(ge, kGe)
TG_PROMOTED(le, kLe)
TG_PROMOTED(eq, kEq)
TG_PROMOTED(ne, kNe)
#undef TG_PROMOTED

// True division: integers divide as float32 (arange(5) / 2 is [0, 0.5, 1, 1.5, 2]).
Tensor div(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = promoted(a, b);
  if (!is_floating(pa.dtype())) {
    pa = to_dtype(pa, kFloat32);
    pb = to_dtype(pb, kFloat32);
  }
  return apply_op(kDiv, {pa, pb});
}
// pow computes in floating dtypes only: an integer base with an integer exponent is refused
// by the row (PyTorch keeps int64 there; tapegrad has no integer pow kernel yet).
Tensor pow(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = promoted(a, b);
  return apply_op(kPow, {pa, pb});
}
Tensor pow(const Tensor& a, Scalar b) { return pow(a, scalar_operand(b, a)); }
Tensor neg(const Tensor& x) { return apply_op(kNeg, {x}); }
Tensor exp(const Tensor& x) { return apply_op(kExp, {internal::floating(x)}); }
Tensor log(const Tensor& x) { return apply_op(kLog, {internal::floating(x)}); }
Tensor sqrt(const Tensor& x) { return apply_op(kSqrt, {internal::floating(x)}); }
Tensor abs(const Tensor& x) { return apply_op(kAbs, {x}); }
Tensor sin(const Tensor& x) { return apply_op(kSin, {internal::floating(x)}); }
Tensor cos(const Tensor& x) { return apply_op(kCos, {internal::floating(x)}); }
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  TG_CHECK(!min || !max || *min <= *max, "clamp: min ", *min, " > max ", *max);
  Attrs attrs;
  if (min) attrs.set("min", *min);
  if (max) attrs.set("max", *max);
  return apply_op(kClamp, {x}, attrs);
}
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  auto [pa, pb] = promoted(a, b);
  return apply_op(kWhere, {cond, pa, pb});
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) { return where(cond, a, scalar_operand(b, a)); }
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) { return where(cond, scalar_operand(a, b), b); }
Tensor gt(const Tensor& a, Scalar b) { return gt(a, scalar_operand(b, a)); }
Tensor lt(const Tensor& a, Scalar b) { return lt(a, scalar_operand(b, a)); }
Tensor ge(const Tensor& a, Scalar b) { return ge(a, scalar_operand(b, a)); }
Tensor le(const Tensor& a, Scalar b) { return le(a, scalar_operand(b, a)); }
Tensor eq(const Tensor& a, Scalar b) { return eq(a, scalar_operand(b, a)); }
Tensor ne(const Tensor& a, Scalar b) { return ne(a, scalar_operand(b, a)); }

// Composed from comparisons and where, so they record as rows ONNX already maps.
static Tensor truth(const Tensor& x) { return x.dtype() == kBool ? x : ne(x, 0); }
Tensor logical_not(const Tensor& x) { return x.dtype() == kBool ? eq(x, false) : eq(x, 0); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return where(truth(a), truth(b), false); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return where(truth(a), true, truth(b)); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return ne(truth(a), truth(b)); }

bool equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  NoGradGuard no_grad;
  return a.numel() == 0 || sum(ne(a, b)).item<int64_t>() == 0;
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator%(const Tensor& a, const Tensor& b) { return remainder(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, scalar_operand(b, a)); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, scalar_operand(b, a)); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, scalar_operand(b, a)); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, scalar_operand(b, a)); }
Tensor operator%(const Tensor& a, Scalar b) { return remainder(a, b); }
Tensor operator+(Scalar a, const Tensor& b) { return add(scalar_operand(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(scalar_operand(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(scalar_operand(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(scalar_operand(a, b), b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }

}  // namespace tg
