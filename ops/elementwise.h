// tapegrad/ops/elementwise.h: grad-free elementwise kernels over any strides, with NumPy
// broadcasting for binary ops. Outputs are fresh contiguous arrays.
#pragma once

#include <optional>

#include "ops/array.h"
#include "ops/elementwise_ops.h"
#include "ops/generator.h"

namespace tg::ops {

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);
const char* compare_op_name(CompareOp op);

Array unary(UnaryOp op, const Array& x);
Array binary(BinaryOp op, const Array& a, const Array& b);
Array compare(CompareOp op, const Array& a, const Array& b);  // bool result
// The TG_PARAMETRIC_UNARY_OPS with their parameters p and q (see the list for their meaning).
const char* parametric_unary_op_name(ParametricUnaryOp op);
Array parametric_unary(ParametricUnaryOp op, const Array& x, double p, double q = 0.0);
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
