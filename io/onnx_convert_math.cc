// tapegrad/io/onnx_convert_math.cc: ONNX elementwise math, comparisons, logic, activations,
// softmax and Cast. Binary ops broadcast like NumPy (as ONNX's multidirectional broadcasting);
// ONNX keeps the operands' type where tapegrad would promote, so results are cast back.
#include <cmath>

#include "autograd/functions.h"
#include "autograd/indexing.h"
#include "io/onnx_converters.h"
#include "io/onnx_tensor.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

// ONNX arithmetic keeps its (equal) operand type: int64 / int64 stays int64, truncating.
Tensor same_type(const Tensor& result, const Tensor& like) {
  return result.dtype() == like.dtype() ? result : to_dtype(result, like.dtype());
}

Tensor onnx_div(const Tensor& a, const Tensor& b) {
  if (is_floating(a.dtype()) || is_floating(b.dtype())) return div(a, b);
  // Integer Div truncates toward zero; a - fmod(a, b) is an exact multiple of b.
  return floor_divide(sub(a, fmod(a, b)), b);
}

// Pow keeps the base's type; integer powers are computed in float64 (exact below 2^53).
Tensor onnx_pow(const Tensor& a, const Tensor& b) {
  if (is_floating(a.dtype())) return same_type(pow(a, b), a);
  const Tensor p = pow(to_dtype(a, kFloat64), to_dtype(b, kFloat64));
  return to_dtype(is_floating(b.dtype()) ? trunc(p) : round(p), a.dtype());
}

// Variadic Max/Min/Sum/Mean fold their inputs left to right.
template <Tensor (*Op)(const Tensor&, const Tensor&)>
Tensors fold(C& c) {
  Tensor acc = c.in(0);
  for (int i = 1; i < c.num_inputs(); ++i) acc = Op(acc, c.in(i));
  return {acc};
}

// Softmax and LogSoftmax: before opset 13 the input is seen as 2-d [prod(dims < axis), rest].
template <Tensor (*Op)(const Tensor&, int64_t)>
Tensors softmax_like(C& c) {
  const Tensor& x = c.in(0);
  if (c.opset() >= 13) return {Op(x, c.axis(c.i("axis", -1), x.dim()))};
  const int64_t axis = c.axis(c.i("axis", 1), x.dim());
  if (x.dim() == 0) return {Op(x.reshape({1}), 0).reshape({})};
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  const Tensor flat = x.reshape({outer, x.numel() / std::max<int64_t>(outer, 1)});
  return {Op(flat, 1).reshape(x.shape())};
}

absl::StatusOr<DType> cast_target(C& c) {
  return dtype_from_onnx(static_cast<int>(c.i("to")), "attribute 'to'");
}

Tensor cast(const Tensor& x, DType to) {
  if (x.dtype() == to) return x;
  if (to == kBool) return ne(x, 0);
  if (is_floating(x.dtype()) && to == kInt64) return to_dtype(trunc(x), to);  // C's conversion: toward zero
  return to_dtype(x, to);
}

Tensors unary(C& c, Tensor (*op)(const Tensor&)) { return {op(c.in(0))}; }

#define UNARY(OnnxName, fn) \
  {.op_type = OnnxName, .convert = [](C& c) -> Tensors { return unary(c, fn); }}

#define BINARY(OnnxName, expr)                                        \
  {.op_type = OnnxName, .convert = [](C& c) -> Tensors {              \
     const Tensor &a = c.in(0), &b = c.in(1);                         \
     return {expr};                                                   \
   },                                                                 \
   .min_inputs = 2, .max_inputs = 2}

Tensor identity(const Tensor& x) { return x; }
// The inverse hyperbolic functions by their logarithmic forms.
Tensor asinh(const Tensor& x) { return mul(sign(x), log(abs(x) + sqrt(x * x + 1))); }
Tensor acosh(const Tensor& x) { return log(x + sqrt(x * x - 1)); }
Tensor atanh(const Tensor& x) { return log(div(1.0 + x, 1.0 - x)) * 0.5; }
Tensor is_nan(const Tensor& x) { return ne(x, x); }
Tensor softsign(const Tensor& x) { return div(x, abs(x) + 1); }
Tensor not_op(const Tensor& x) { return logical_not(x); }

Tensors clip(C& c) {
  const Tensor& x = c.in(0);
  std::optional<double> lo, hi;
  if (c.opset() < 11) {
    lo = c.f("min", -INFINITY);
    hi = c.f("max", INFINITY);
  } else {
    if (c.has_in(1)) lo = c.scalar_value(1);
    if (c.has_in(2)) hi = c.scalar_value(2);
  }
  if (!lo && !hi) return {x};
  return {clamp(x, lo, hi)};
}

Tensors selu_like(C& c) {
  const double alpha = c.f("alpha", 1.67326319217681884765625), gamma = c.f("gamma", 1.05070102214813232421875);
  return {elu(c.in(0), alpha) * gamma};
}

Tensors hard_sigmoid(C& c) {
  const double alpha = c.f("alpha", 0.2), beta = c.f("beta", 0.5);
  return {clamp(c.in(0) * alpha + beta, 0.0, 1.0)};
}

Tensors prelu_onnx(C& c) {
  const Tensor& x = c.in(0);
  Tensor slope = c.in(1);
  // Opset < 7 (and PyTorch's export of a per-channel PReLU) give slope as [C] or [C, 1, 1]:
  // ONNX broadcasts it unidirectionally to x, which for [C] against [N, C, H, W] is NumPy's rule
  // only after the trailing ones are added.
  if (slope.dim() == 1 && x.dim() > 2 && slope.size(0) == x.size(1) && slope.size(0) != x.size(x.dim() - 1)) {
    Shape s(x.dim() - 1, 1);
    s[0] = slope.size(0);
    slope = slope.reshape(s);
  }
  return {where(gt(x, 0), x, mul(x, slope))};
}

Tensors dropout_onnx(C& c) {
  const Tensor& x = c.in(0);
  double ratio = 0.5;
  bool training = c.training();
  if (c.opset() < 12) {
    ratio = c.f("ratio", 0.5);
    if (c.opset() < 7 && c.i("is_test", 0) != 0) training = false;
  } else {
    if (c.has_in(1)) ratio = c.scalar_value(1);
    if (c.has_in(2)) training = training || c.scalar_value(2) != 0;
  }
  TG_CHECK(ratio >= 0 && ratio < 1, "ratio ", ratio, " must be in [0, 1)");
  if (!training || ratio == 0) return {x, ones(x.shape(), kBool)};
  // The mask marks the kept elements; a 0 input reads as kept whether it was dropped or not.
  const Tensor y = dropout(x, ratio, /*training=*/true);
  return {y, logical_or(ne(y, 0), eq(x, 0))};
}

const bool kRegistered = register_onnx_converters({
    UNARY("Identity", identity),
    UNARY("Neg", neg),
    UNARY("Abs", abs),
    UNARY("Exp", exp),
    UNARY("Log", log),
    UNARY("Sqrt", sqrt),
    UNARY("Reciprocal", reciprocal),
    UNARY("Erf", erf),
    UNARY("Sin", sin),
    UNARY("Cos", cos),
    UNARY("Tan", tan),
    UNARY("Asin", asin),
    UNARY("Acos", acos),
    UNARY("Atan", atan),
    UNARY("Sinh", sinh),
    UNARY("Cosh", cosh),
    UNARY("Tanh", tanh),
    UNARY("Sigmoid", sigmoid),
    UNARY("Relu", relu),
    UNARY("Floor", floor),
    UNARY("Ceil", ceil),
    UNARY("Round", round),
    UNARY("Sign", sign),
    UNARY("Softsign", softsign),
    UNARY("Not", not_op),
    UNARY("HardSwish", hardswish),
    UNARY("Asinh", asinh),
    UNARY("Acosh", acosh),
    UNARY("Atanh", atanh),
    UNARY("IsNaN", is_nan),
    {.op_type = "IsInf",
     .convert = [](C& c) -> Tensors {
       const Tensor& x = c.in(0);
       const bool pos = c.i("detect_positive", 1) != 0, neg = c.i("detect_negative", 1) != 0;
       const Tensor p = pos ? eq(x, INFINITY) : zeros(x.shape(), kBool);
       const Tensor n = neg ? eq(x, -INFINITY) : zeros(x.shape(), kBool);
       return {logical_or(p, n)};
     }},
    {.op_type = "Shrink",
     .convert = [](C& c) -> Tensors {
       const Tensor& x = c.in(0);
       const double lambd = c.f("lambd", 0.5), bias = c.f("bias", 0.0);
       return {same_type(where(lt(x, -lambd), x + bias, where(gt(x, lambd), x - bias, zeros_like(x))), x)};
     }},
    {.op_type = "Hardmax",
     .convert = [](C& c) -> Tensors {
       // One-hot of the first maximum along axis (before opset 13: of the flattened 2-d view).
       const Tensor& x = c.in(0);
       Tensor rows = x;
       int64_t axis;
       if (c.opset() >= 13) {
         axis = c.axis(c.i("axis", -1), x.dim());
       } else {
         const int64_t a = c.axis(c.i("axis", 1), x.dim());
         int64_t outer = 1;
         for (int64_t d = 0; d < a; ++d) outer *= x.size(d);
         rows = x.reshape({outer, outer ? x.numel() / outer : 0});
         axis = 1;
       }
       const Tensor hot = one_hot(argmax(rows, axis, true).squeeze(axis), rows.size(axis));
       Shape perm;
       for (int64_t d = 0; d + 1 < rows.dim(); ++d) {
         if (d == axis) perm.push_back(rows.dim() - 1);
         perm.push_back(d);
       }
       if (axis == rows.dim() - 1) perm.push_back(rows.dim() - 1);
       return {to_dtype(permute(hot, perm), x.dtype()).reshape(x.shape())};
     }},
    BINARY("Add", same_type(add(a, b), a)),
    BINARY("Sub", same_type(sub(a, b), a)),
    BINARY("Mul", same_type(mul(a, b), a)),
    BINARY("Div", same_type(onnx_div(a, b), a)),
    BINARY("Pow", onnx_pow(a, b)),
    BINARY("Equal", eq(a, b)),
    BINARY("Less", lt(a, b)),
    BINARY("LessOrEqual", le(a, b)),
    BINARY("Greater", gt(a, b)),
    BINARY("GreaterOrEqual", ge(a, b)),
    BINARY("And", logical_and(a, b)),
    BINARY("Or", logical_or(a, b)),
    BINARY("Xor", logical_xor(a, b)),
    {.op_type = "Mod",
     .convert = [](C& c) -> Tensors {
       const Tensor &a = c.in(0), &b = c.in(1);
       const bool use_fmod = c.i("fmod", 0) != 0;
       TG_CHECK(use_fmod || !is_floating(a.dtype()), "fmod=0 is only defined for integers");
       return {use_fmod ? fmod(a, b) : remainder(a, b)};
     },
     .min_inputs = 2, .max_inputs = 2},
    {.op_type = "Max", .convert = fold<maximum>, .max_inputs = -1},
    {.op_type = "Min", .convert = fold<minimum>, .max_inputs = -1},
    {.op_type = "Sum", .convert = fold<add>, .max_inputs = -1},
    {.op_type = "Mean",
     .convert = [](C& c) -> Tensors { return {fold<add>(c)[0] / Scalar(int64_t{c.num_inputs()})}; },
     .max_inputs = -1},
    {.op_type = "Where",
     .convert = [](C& c) -> Tensors { return {where(c.in(0), c.in(1), c.in(2))}; },
     .min_inputs = 3, .max_inputs = 3},
    {.op_type = "Cast",
     .convert = [](C& c) -> Tensors {
       auto to = cast_target(c);
       TG_CHECK(to.ok(), to.status().message());
       return {cast(c.in(0), *to)};
     }},
    {.op_type = "CastLike",
     .convert = [](C& c) -> Tensors { return {cast(c.in(0), c.in(1).dtype())}; },
     .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "Clip", .convert = clip, .max_inputs = 3, .constant_inputs = {1, 2}},
    {.op_type = "LeakyRelu", .convert = [](C& c) -> Tensors { return {leaky_relu(c.in(0), c.f("alpha", 0.01))}; }},
    {.op_type = "Elu", .convert = [](C& c) -> Tensors { return {elu(c.in(0), c.f("alpha", 1.0))}; }},
    {.op_type = "Celu", .convert = [](C& c) -> Tensors { return {celu(c.in(0), c.f("alpha", 1.0))}; }},
    {.op_type = "Selu", .convert = selu_like},
    {.op_type = "Softplus", .convert = [](C& c) -> Tensors { return {softplus(c.in(0))}; }},
    {.op_type = "HardSigmoid", .convert = hard_sigmoid},
    {.op_type = "ThresholdedRelu",
     .convert = [](C& c) -> Tensors {
       const Tensor& x = c.in(0);
       return {where(gt(x, c.f("alpha", 1.0)), x, zeros_like(x))};
     }},
    {.op_type = "PRelu", .convert = prelu_onnx, .min_inputs = 2, .max_inputs = 2},
    {.op_type = "Softmax", .convert = softmax_like<softmax>},
    {.op_type = "LogSoftmax", .convert = softmax_like<log_softmax>},
    {.op_type = "Dropout", .convert = dropout_onnx, .max_inputs = 3, .max_outputs = 2, .constant_inputs = {1, 2},
     .depends_on_mode = true},
    {.op_type = "Einsum",
     .convert = [](C& c) -> Tensors {
       std::vector<Tensor> operands;
       for (int i = 0; i < c.num_inputs(); ++i) operands.push_back(c.in(i));
       return {einsum(c.s("equation"), operands)};
     },
     .max_inputs = -1},
});

}  // namespace

}  // namespace tg::io
