// tapegrad/ops/elementwise_ops.h: the elementwise op lists and their enums, shared by the kernels
// of any strides (elementwise.h) and the per-ISA vector kernels (internal/vector_kernels.h).
#pragma once

namespace tg::ops {

// The elementwise op lists, one line per op: X(Name, "name", dtype class, scalar expression).
// Unary expressions read `v`, binary and comparison ones `a` and `b`, all of the element type T;
// the dtype class is kNumeric (integers and floats) or kFloating. The enums, the names and the
// kernels' (exhaustive, default-free) switches are generated from these lists, so adding a kernel
// is adding a line. Helpers the expressions call live in internal/elementwise_math.h.
#define TG_UNARY_OPS(X)                                                                 \
  X(Neg, "neg", kNumeric, -v)                                                           \
  X(Abs, "abs", kNumeric, v < 0 ? -v : v)                                               \
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
  X(GeluDerivative, "gelu_derivative", kFloating, gelu_derivative_of(v)) /* Phi + x phi */

// kMaskByPositive: a where b > 0, else 0 (ReLU's backward in one pass: gradient a, output b).
#define TG_BINARY_OPS(X)                                                    \
  X(Add, "add", kNumeric, a + b)                                            \
  X(Sub, "sub", kNumeric, a - b)                                            \
  X(Mul, "mul", kNumeric, a * b)                                            \
  X(Div, "div", kNumeric, a / b) /* integer division by zero is refused */  \
  X(Pow, "pow", kFloating, std::pow(a, b))                                  \
  X(MaskByPositive, "mask_by_positive", kNumeric, b > T(0) ? a : T(0))

// Comparisons accept every dtype and give bool.
#define TG_COMPARE_OPS(X)   \
  X(Gt, "gt", a > b)        \
  X(Lt, "lt", a < b)        \
  X(Eq, "eq", a == b)       \
  X(Ne, "ne", a != b)

#define TG_ELEMENTWISE_ENUM_ENTRY(Name, ...) k##Name,
enum class UnaryOp { TG_UNARY_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
enum class BinaryOp { TG_BINARY_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
enum class CompareOp { TG_COMPARE_OPS(TG_ELEMENTWISE_ENUM_ENTRY) };
#undef TG_ELEMENTWISE_ENUM_ENTRY

}  // namespace tg::ops
