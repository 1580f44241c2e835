// tapegrad/ops/elementwise.h: grad-free elementwise kernels over any strides, with NumPy
// broadcasting for binary ops. Outputs are fresh contiguous arrays.
#pragma once

#include <optional>

#include "ops/array.h"
#include "ops/generator.h"

namespace tg::ops {

// The elementwise op lists, one line per op: X(Name, "name", dtype class, scalar expression).
// Unary expressions read `v`, binary and comparison ones `a` and `b`, all of the element type T;
// the dtype class is kNumeric (integers and floats) or kFloating. The enums, the names and the
// kernels' (exhaustive, default-free) switches are generated from these lists, so adding a kernel
// is adding a line. Helpers the expressions call live in elementwise.cc.
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

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);
const char* compare_op_name(CompareOp op);

Array unary(UnaryOp op, const Array& x);
Array binary(BinaryOp op, const Array& a, const Array& b);
Array compare(CompareOp op, const Array& a, const Array& b);  // bool result
Array leaky_relu(const Array& x, double negative_slope);
Array leaky_relu_slope(const Array& x, double negative_slope);  // 1 where x > 0 else slope
Array clamp(const Array& x, std::optional<double> min, std::optional<double> max);
Array clamp_mask(const Array& x, std::optional<double> min, std::optional<double> max);  // 1 inside
Array where(const Array& cond, const Array& a, const Array& b);  // broadcasting, a/b same dtype
Array scale(const Array& x, double factor);                      // x * factor (same dtype)

// In-place update for optimizers and accumulation: dst += alpha * src (src broadcast to dst).
void add_into(const Array& dst, const Array& src, double alpha = 1.0);

// Random and range factories.
Array uniform(const Shape& shape, double low, double high, DType dtype, Generator& gen);
Array normal(const Shape& shape, double mean, double stddev, DType dtype, Generator& gen);
Array bernoulli(const Shape& shape, double p_one, DType dtype, Generator& gen);  // 1 with prob p_one
Array arange(double start, double end, double step, DType dtype);

}  // namespace tg::ops
