// tapegrad/ops/elementwise_ops.h: the elementwise op lists and their enums, shared by the kernels
// of any strides (elementwise.h) and the per-ISA vector kernels (internal/vector_kernels.h).
#pragma once

namespace tg::ops {

// The elementwise op lists, one line per op: X(Name, "name", dtype class, scalar expression).
// Unary expressions read `v`, binary and comparison ones `a` and `b`, all of the element type T;
// the dtype class is kNumeric (integers and floats) or kFloating. The enums, the names and the
// kernels' (exhaustive, default-free) switches are generated from these lists, so adding a kernel
// is adding a line. Helpers the expressions call live in internal/elementwise_math.h (integer
// +, -, *, negation and division wrap around as PyTorch's do).
#define TG_UNARY_OPS(X)                                                                 \
  X(Neg, "neg", kNumeric, wrapping_neg(v))                                             \
  X(Abs, "abs", kNumeric, v < 0 ? wrapping_neg(v) : v)                                 \
  X(Sign, "sign", kNumeric, (v > 0) - (v < 0))                                          \
  X(Relu, "relu", kNumeric, v > 0 ? v : T(0))                                           \
  X(PositiveMask, "positive_mask", kNumeric, v > 0 ? T(1) : T(0)) /* 1 where x > 0 */   \
  X(Exp, "exp", kFloating, std::exp(v))                                                 \
  X(Log, "log", kFloating, std::log(v))                                                 \
  X(Sqrt, "sqrt", kFloating, std::sqrt(v))                                              \
  X(Sigmoid, "sigmoid", kFloating, stable_sigmoid(v))                                   \
  X(Tanh, "tanh", kFloating, std::tanh(v))                                              \
  X(Sin, "sin", kFloating, std::sin(v))                                                 \
  X(Cos, "cos", kFloating, std::cos(v))                                                 \
  X(Gelu, "gelu", kFloating, gelu_of(v))                                                \
  X(GeluDerivative, "gelu_derivative", kFloating, gelu_derivative_of(v)) /* Phi + x phi */ \
  X(GeluTanh, "gelu_tanh", kFloating, gelu_tanh_of(v))                                  \
  X(GeluTanhDerivative, "gelu_tanh_derivative", kFloating, gelu_tanh_derivative_of(v))  \
  X(Tan, "tan", kFloating, std::tan(v))                                                 \
  X(Asin, "asin", kFloating, std::asin(v))                                              \
  X(Acos, "acos", kFloating, std::acos(v))                                              \
  X(Atan, "atan", kFloating, std::atan(v))                                              \
  X(Sinh, "sinh", kFloating, std::sinh(v))                                              \
  X(Cosh, "cosh", kFloating, std::cosh(v))                                              \
  X(Erf, "erf", kFloating, std::erf(v))                                                 \
  X(Erfinv, "erfinv", kFloating, erfinv_of(v))                                          \
  X(Expm1, "expm1", kFloating, std::expm1(v))                                           \
  X(Log1p, "log1p", kFloating, std::log1p(v))                                           \
  X(Log2, "log2", kFloating, std::log2(v))                                              \
  X(Log10, "log10", kFloating, std::log10(v))                                           \
  X(Rsqrt, "rsqrt", kFloating, T(1) / std::sqrt(v))                                     \
  X(Reciprocal, "reciprocal", kFloating, T(1) / v)                                      \
  X(Floor, "floor", kNumeric, floor_of(v))                                              \
  X(Ceil, "ceil", kNumeric, ceil_of(v))                                                 \
  X(Round, "round", kNumeric, round_half_even_of(v))                                    \
  X(Trunc, "trunc", kNumeric, trunc_of(v))                                              \
  X(Frac, "frac", kFloating, v - std::trunc(v))                                         \
  X(Silu, "silu", kFloating, v * stable_sigmoid(v))                                     \
  X(Mish, "mish", kFloating, v * std::tanh(softplus_of(v, T(1), T(20))))                \
  X(LogSigmoid, "log_sigmoid", kFloating, log_sigmoid_of(v))                            \
  X(Hardsigmoid, "hardsigmoid", kFloating, hardsigmoid_of(v))                           \
  X(Hardswish, "hardswish", kFloating, v * hardsigmoid_of(v))

// Unary ops with up to two float parameters p and q (of type T), on floating dtypes.
#define TG_PARAMETRIC_UNARY_OPS(X)                                                      \
  X(Elu, "elu", v > 0 ? q * v : q * p * std::expm1(v)) /* p: alpha, q: scale (selu) */   \
  X(Celu, "celu", v > 0 ? v : p * std::expm1(v / p))   /* p: alpha */                    \
  X(Softplus, "softplus", softplus_of(v, p, q))        /* p: beta, q: threshold */       \
  X(InsideOpen, "inside_open", (v > p && v < q) ? T(1) : T(0)) /* 1 where p < x < q */

// kMaskByPositive: a where b > 0, else 0 (ReLU's backward in one pass: gradient a, output b).
// Integer fmod, remainder and floor_divide by zero are refused like div.
#define TG_BINARY_OPS(X)                                                    \
  X(Add, "add", kNumeric, wrapping_add(a, b))                               \
  X(Sub, "sub", kNumeric, wrapping_sub(a, b))                               \
  X(Mul, "mul", kNumeric, wrapping_mul(a, b))                               \
  X(Div, "div", kNumeric, divide_of(a, b)) /* by zero: refused for ints */ \
  X(Pow, "pow", kFloating, std::pow(a, b))                                  \
  X(MaskByPositive, "mask_by_positive", kNumeric, b > T(0) ? a : T(0)) \
  X(Atan2, "atan2", kFloating, std::atan2(a, b))                          \
  X(Fmod, "fmod", kNumeric, fmod_of(a, b))                /* sign of a */ \
  X(Remainder, "remainder", kNumeric, remainder_of(a, b)) /* sign of b */ \
  X(FloorDivide, "floor_divide", kNumeric, floor_divide_of(a, b))         \
  X(Maximum, "maximum", kNumeric, maximum_of(a, b)) /* NaN propagates */  \
  X(Minimum, "minimum", kNumeric, minimum_of(a, b))

// Comparisons accept every dtype and give bool.
#define TG_COMPARE_OPS(X)   \
  X(Gt, "gt", a > b)        \
  X(Lt, "lt", a < b)        \
  X(Eq, "eq", a == b)       \
  X(Ne, "ne", a != b)       \
  X(Ge, "ge", a >= b)       \
  X(Le, "le", a <= b)

#define TG_ELEMENTWISE_ENUM_ENTRY(Name, ...) k##Name,
enum class UnaryOp { TG_UNARY_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
enum class BinaryOp { TG_BINARY_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
enum class CompareOp { TG_COMPARE_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
enum class ParametricUnaryOp { TG_PARAMETRIC_UNARY_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
#undef TG_ELEMENTWISE_ENUM_ENTRY

}  // namespace tg::ops
