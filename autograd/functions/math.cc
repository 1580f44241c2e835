// tapegrad/autograd/functions/math.cc: op rows for the elementwise math functions: tan, asin,
// acos, atan, sinh, cosh, erf, erfinv, expm1, log1p, log2, log10, rsqrt, reciprocal, floor,
// ceil, round, trunc, frac, sign, and the binary atan2, fmod, remainder, floor_divide, maximum,
// minimum. Floating-only functions promote integer inputs to float32, as torch does.
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/elementwise.h"

namespace tg {

using internal::binary_forward;
using internal::constant;
using internal::floating;
using internal::if_needed;
using internal::unary_forward;
using internal::zero_gradient;
using ops::BinaryOp;
using ops::UnaryOp;

namespace {

constexpr double kTwoOverSqrtPi = 1.1283791670955126;
constexpr double kSqrtPiOverTwo = 0.88622692545275801;

// An ONNX node with one constant second input (Add(x, 1), Div(x, ln 2)).
OnnxMapping with_constant(const char* op_type, int first_step, double value) {
  return {.op_type = op_type, .inputs = {first_step < 0 ? onnx_in(0) : onnx_step(first_step), onnx_constant(value)}};
}
// x - Mod(x, 1) with fmod: the truncation of a float (ONNX has no Trunc).
const OnnxMapping kFracNode = {.op_type = "Mod", .inputs = {onnx_in(0), onnx_constant(1.0)}, .fixed_ints = {{"fmod", 1}}};

const OpDef& kTan = define_op({
    .name = "tan",
    .forward = unary_forward<UnaryOp::kTan>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * (1.0 + c.output() * c.output())}; },
    .save_output = true,
    .onnx = {{.op_type = "Tan"}},
});

const OpDef& kAsin = define_op({
    .name = "asin",
    .forward = unary_forward<UnaryOp::kAsin>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * rsqrt(1.0 - c.input(0) * c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Asin"}},
});

const OpDef& kAcos = define_op({
    .name = "acos",
    .forward = unary_forward<UnaryOp::kAcos>,
    .backward = [](BackwardContext& c) -> Grads { return {neg(c.grad) * rsqrt(1.0 - c.input(0) * c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Acos"}},
});

const OpDef& kAtan = define_op({
    .name = "atan",
    .forward = unary_forward<UnaryOp::kAtan>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / (1.0 + c.input(0) * c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Atan"}},
});

const OpDef& kSinh = define_op({
    .name = "sinh",
    .forward = unary_forward<UnaryOp::kSinh>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * cosh(c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Sinh"}},
});

const OpDef& kCosh = define_op({
    .name = "cosh",
    .forward = unary_forward<UnaryOp::kCosh>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * sinh(c.input(0))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Cosh"}},
});

const OpDef& kErf = define_op({
    .name = "erf",
    .forward = unary_forward<UnaryOp::kErf>,
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * exp(neg(c.input(0) * c.input(0))) * kTwoOverSqrtPi};
    },
    .save_inputs = {0},
    .onnx = {{.op_type = "Erf"}},
});

const OpDef& kErfinv = define_op({
    .name = "erfinv",
    .forward = unary_forward<UnaryOp::kErfinv>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * exp(c.output() * c.output()) * kSqrtPiOverTwo}; },
    .save_output = true,
    .not_onnx = "ONNX (opset 13) has no inverse error function",
});

const OpDef& kExpm1 = define_op({
    .name = "expm1",
    .forward = unary_forward<UnaryOp::kExpm1>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * (c.output() + 1.0)}; },
    .save_output = true,
    .onnx = {{.op_type = "Sub(Exp(x), 1)", .steps = {{.op_type = "Exp"}, with_constant("Sub", 0, 1.0)}}},
});

const OpDef& kLog1p = define_op({
    .name = "log1p",
    .forward = unary_forward<UnaryOp::kLog1p>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / (c.input(0) + 1.0)}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Log(Add(x, 1))",
              .steps = {with_constant("Add", -1, 1.0), {.op_type = "Log", .inputs = {onnx_step(0)}}}}},
});

const OpDef& kLog2 = define_op({
    .name = "log2",
    .forward = unary_forward<UnaryOp::kLog2>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / (c.input(0) * M_LN2)}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Div(Log(x), ln 2)", .steps = {{.op_type = "Log"}, with_constant("Div", 0, M_LN2)}}},
});

const OpDef& kLog10 = define_op({
    .name = "log10",
    .forward = unary_forward<UnaryOp::kLog10>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad / (c.input(0) * M_LN10)}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Div(Log(x), ln 10)", .steps = {{.op_type = "Log"}, with_constant("Div", 0, M_LN10)}}},
});

const OpDef& kRsqrt = define_op({
    .name = "rsqrt",
    .forward = unary_forward<UnaryOp::kRsqrt>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor y = c.output();
      return {c.grad * y * y * y * -0.5};
    },
    .save_output = true,
    .onnx = {{.op_type = "Reciprocal(Sqrt(x))", .steps = onnx_chain({"Sqrt", "Reciprocal"})}},
});

const OpDef& kReciprocal = define_op({
    .name = "reciprocal",
    .forward = unary_forward<UnaryOp::kReciprocal>,
    .backward = [](BackwardContext& c) -> Grads { return {neg(c.grad) * c.output() * c.output()}; },
    .save_output = true,
    .onnx = {{.op_type = "Reciprocal"}},
});

// Rounding is the identity on integers; ONNX's Floor, Ceil and Round take floats only.
const OnnxMapping kIntegerIdentity = {.op_type = "Identity", .input_class = OnnxInputClass::kIntegral};

const OpDef& kFloor = define_op({
    .name = "floor",
    .forward = unary_forward<UnaryOp::kFloor>,
    .backward = zero_gradient,
    .onnx = {{.op_type = "Floor", .input_class = OnnxInputClass::kFloating}, kIntegerIdentity},
});

const OpDef& kCeil = define_op({
    .name = "ceil",
    .forward = unary_forward<UnaryOp::kCeil>,
    .backward = zero_gradient,
    .onnx = {{.op_type = "Ceil", .input_class = OnnxInputClass::kFloating}, kIntegerIdentity},
});

const OpDef& kRound = define_op({
    .name = "round",  // halves to even, as torch.round and ONNX Round
    .forward = unary_forward<UnaryOp::kRound>,
    .backward = zero_gradient,
    .onnx = {{.op_type = "Round", .input_class = OnnxInputClass::kFloating}, kIntegerIdentity},
});

const OpDef& kTrunc = define_op({
    .name = "trunc",
    .forward = unary_forward<UnaryOp::kTrunc>,
    .backward = zero_gradient,
    .onnx = {{.op_type = "Sub(x, Mod(x, 1))",
              .input_class = OnnxInputClass::kFloating,
              .steps = {kFracNode, {.op_type = "Sub", .inputs = {onnx_in(0), onnx_step(0)}}}},
             kIntegerIdentity},
});

const OpDef& kFrac = define_op({
    .name = "frac",  // x - trunc(x): the sign of x
    .forward = unary_forward<UnaryOp::kFrac>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad}; },
    .onnx = {kFracNode},
});

const OpDef& kSign = define_op({
    .name = "sign",
    .forward = unary_forward<UnaryOp::kSign>,
    .backward = zero_gradient,
    .onnx = {{.op_type = "Sign"}},
});

const OpDef& kAtan2 = define_op({
    .name = "atan2",
    .forward = binary_forward<BinaryOp::kAtan2>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor y = c.input(0), x = c.input(1);
      const Tensor r2 = y * y + x * x;
      return {if_needed(c, 0, [&] { return sum_to(c.grad * x / r2, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(neg(c.grad) * y / r2, c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .not_onnx = "ONNX (opset 13) has no atan2",
});

const OpDef& kFmod = define_op({
    .name = "fmod",
    .forward = binary_forward<BinaryOp::kFmod>,
    .backward = [](BackwardContext& c) -> Grads {  // d/db = -trunc(a / b)
      return {if_needed(c, 0, [&] { return sum_to(c.grad, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(neg(c.grad) * trunc(c.input(0) / c.input(1)), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Mod", .fixed_ints = {{"fmod", 1}}}},
});

const OpDef& kRemainder = define_op({
    .name = "remainder",
    .forward = binary_forward<BinaryOp::kRemainder>,
    .backward = [](BackwardContext& c) -> Grads {  // d/db = -floor(a / b)
      return {if_needed(c, 0, [&] { return sum_to(c.grad, c.input_shape(0)); }),
              if_needed(c, 1, [&] { return sum_to(neg(c.grad) * floor(c.input(0) / c.input(1)), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    // ONNX's Mod without fmod is Python's %, but for integers only.
    .onnx = {{.op_type = "Mod", .input_class = OnnxInputClass::kIntegral},
             {.op_type = "Sub(a, Mul(Floor(Div(a, b)), b))",
              .input_class = OnnxInputClass::kFloating,
              .steps = {{.op_type = "Div"},
                        {.op_type = "Floor", .inputs = {onnx_step(0)}},
                        {.op_type = "Mul", .inputs = {onnx_step(1), onnx_in(1)}},
                        {.op_type = "Sub", .inputs = {onnx_in(0), onnx_step(2)}}}}},
});

constexpr int64_t kOnnxDouble = 11, kOnnxInt64 = 7;  // onnx::TensorProto element types

const OpDef& kFloorDivide = define_op({
    .name = "floor_divide",  // not differentiable, as in PyTorch
    .forward = binary_forward<BinaryOp::kFloorDivide>,
    .min_inputs = 2,
    .max_inputs = 2,
    // ONNX's Div truncates integers: they divide as doubles (exact below 2^53).
    .onnx = {{.op_type = "Floor(Div(a, b))",
              .input_class = OnnxInputClass::kFloating,
              .steps = {{.op_type = "Div"}, {.op_type = "Floor", .inputs = {onnx_step(0)}}}},
             {.op_type = "Cast(Floor(Div(Cast(a), Cast(b))))",
              .input_class = OnnxInputClass::kIntegral,
              .steps = {{.op_type = "Cast", .inputs = {onnx_in(0)}, .fixed_ints = {{"to", kOnnxDouble}}},
                        {.op_type = "Cast", .inputs = {onnx_in(1)}, .fixed_ints = {{"to", kOnnxDouble}}},
                        {.op_type = "Div", .inputs = {onnx_step(0), onnx_step(1)}},
                        {.op_type = "Floor", .inputs = {onnx_step(2)}},
                        {.op_type = "Cast", .inputs = {onnx_step(3)}, .fixed_ints = {{"to", kOnnxInt64}}}}}},
});

// maximum/minimum's gradient goes to the winning side and is halved at ties, as PyTorch's: the
// weight of a is 1/2 where a == b, 0 where a loses, else 1 (so a NaN side keeps the gradient).
Tensor tie_weights(const Tensor& a, const Tensor& b, ops::CompareOp a_loses) {
  const ops::Array half = ops::Array::full({}, 0.5, a.dtype()), zero = ops::Array::full({}, 0.0, a.dtype()),
                   one = ops::Array::full({}, 1.0, a.dtype());
  return constant(ops::where(ops::compare(ops::CompareOp::kEq, a.data(), b.data()), half,
                             ops::where(ops::compare(a_loses, a.data(), b.data()), zero, one)));
}

template <ops::CompareOp kALoses, ops::CompareOp kBLoses>
Grads extremum_backward(BackwardContext& c) {
  const Tensor a = c.input(0), b = c.input(1);
  return {if_needed(c, 0, [&] { return sum_to(c.grad * tie_weights(a, b, kALoses), c.input_shape(0)); }),
          if_needed(c, 1, [&] { return sum_to(c.grad * tie_weights(b, a, kBLoses), c.input_shape(1)); })};
}

const OpDef& kMaximum = define_op({
    .name = "maximum",
    .forward = binary_forward<BinaryOp::kMaximum>,
    .backward = extremum_backward<ops::CompareOp::kLt, ops::CompareOp::kLt>,
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Max"}},
});

const OpDef& kMinimum = define_op({
    .name = "minimum",
    .forward = binary_forward<BinaryOp::kMinimum>,
    .backward = extremum_backward<ops::CompareOp::kGt, ops::CompareOp::kGt>,
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "Min"}},
});

}  // namespace

Tensor tan(const Tensor& x) { return apply_op(kTan, {floating(x)}); }
Tensor asin(const Tensor& x) { return apply_op(kAsin, {floating(x)}); }
Tensor acos(const Tensor& x) { return apply_op(kAcos, {floating(x)}); }
Tensor atan(const Tensor& x) { return apply_op(kAtan, {floating(x)}); }
Tensor sinh(const Tensor& x) { return apply_op(kSinh, {floating(x)}); }
Tensor cosh(const Tensor& x) { return apply_op(kCosh, {floating(x)}); }
Tensor erf(const Tensor& x) { return apply_op(kErf, {floating(x)}); }
Tensor erfinv(const Tensor& x) { return apply_op(kErfinv, {floating(x)}); }
Tensor expm1(const Tensor& x) { return apply_op(kExpm1, {floating(x)}); }
Tensor log1p(const Tensor& x) { return apply_op(kLog1p, {floating(x)}); }
Tensor log2(const Tensor& x) { return apply_op(kLog2, {floating(x)}); }
Tensor log10(const Tensor& x) { return apply_op(kLog10, {floating(x)}); }
Tensor rsqrt(const Tensor& x) { return apply_op(kRsqrt, {floating(x)}); }
Tensor reciprocal(const Tensor& x) { return apply_op(kReciprocal, {floating(x)}); }
Tensor floor(const Tensor& x) { return apply_op(kFloor, {x}); }
Tensor ceil(const Tensor& x) { return apply_op(kCeil, {x}); }
Tensor round(const Tensor& x) { return apply_op(kRound, {x}); }
Tensor trunc(const Tensor& x) { return apply_op(kTrunc, {x}); }
Tensor frac(const Tensor& x) { return apply_op(kFrac, {x}); }
Tensor sign(const Tensor& x) { return apply_op(kSign, {x}); }

Tensor atan2(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(floating(a), floating(b));
  return apply_op(kAtan2, {pa, pb});
}
Tensor fmod(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(a, b);
  return apply_op(kFmod, {pa, pb});
}
Tensor remainder(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(a, b);
  return apply_op(kRemainder, {pa, pb});
}
Tensor floor_divide(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(a, b);
  return apply_op(kFloorDivide, {pa, pb});
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(a, b);
  return apply_op(kMaximum, {pa, pb});
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  auto [pa, pb] = internal::promoted(a, b);
  return apply_op(kMinimum, {pa, pb});
}
Tensor fmod(const Tensor& a, Scalar b) { return fmod(a, internal::scalar_operand(b, a)); }
Tensor remainder(const Tensor& a, Scalar b) { return remainder(a, internal::scalar_operand(b, a)); }
Tensor floor_divide(const Tensor& a, Scalar b) { return floor_divide(a, internal::scalar_operand(b, a)); }

}  // namespace tg
