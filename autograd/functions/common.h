// tapegrad/autograd/functions/common.h: small helpers shared by the op-row files.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "autograd/op_table.h"
#include "ops/elementwise.h"
#include "ops/scalar.h"

namespace tg::internal {

// A tensor that never requires grad (masks, indices, saved statistics).
inline Tensor constant(ops::Array a) { return Tensor(std::move(a)); }

// Computes input i's gradient only when that input needs one.
template <typename F>
Tensor if_needed(const BackwardContext& c, size_t i, F&& f) {
  return c.needs_grad(i) ? f() : Tensor();
}

// Forwards that run one elementwise kernel on the inputs.
template <ops::UnaryOp kOp>
ops::Array unary_forward(ForwardContext& c) {
  return ops::unary(kOp, c.in(0));
}
template <ops::BinaryOp kOp>
ops::Array binary_forward(ForwardContext& c) {
  return ops::binary(kOp, c.in(0), c.in(1));
}

// Note [Type promotion] (ops/scalar.h): the free functions convert their operands to the dtype
// the op computes in before running the row, so a row sees one dtype and a recorded graph holds
// the conversions (to_dtype rows, ONNX Cast).
inline PromotionOperand promotion_operand(const Tensor& t) {
  return {t.dtype(), t.dim() == 0 ? PromotionOperand::kZeroDim : PromotionOperand::kDimensioned};
}
inline Tensor as_dtype(const Tensor& t, DType d) { return t.dtype() == d ? t : to_dtype(t, d); }
inline std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.defined() && b.defined(), "binary op: an operand is an undefined tensor");
  const DType d = result_type(promotion_operand(a), promotion_operand(b));
  return {as_dtype(a, d), as_dtype(b, d)};
}
// Floating-only functions of an integer or bool tensor compute in float32 (torch.sqrt(arange(4))).
inline Tensor floating(const Tensor& x) { return is_floating(x.dtype()) ? x : to_dtype(x, kFloat32); }

// The number s as the 0-d tensor it is next to `other`: of the dtype the two compute in.
inline Tensor scalar_operand(Scalar s, const Tensor& other) {
  TG_CHECK(other.defined(), "binary op with the scalar ", s.str(), ": the tensor is undefined");
  const DType d = result_type(promotion_operand(other), {s.wrapped_dtype(), PromotionOperand::kWrappedNumber});
  return scalar_tensor(s.to_double(), d);
}

// The backward of a piecewise-constant op (floor, sign...): zero almost everywhere, as PyTorch.
inline Grads zero_gradient(BackwardContext& c) { return {zeros_like(c.grad)}; }

inline std::vector<int64_t> pair(Size2 s) { return {s.h, s.w}; }

// The gradient through a ReLU whose result was `output`: grad where output > 0, else 0 (relu's
// and fused_conv2d's backward; activation.cc).
Tensor relu_backward(const Tensor& grad, const Tensor& output);

// A scalar of x's dtype, broadcastable against x. An integer tensor refuses a fractional (or
// non-finite) scalar instead of truncating it: without type promotion, `arange(5) * 2.5` could
// only give a wrong number.
inline Tensor scalar_like(double value, const Tensor& x, const char* op) {
  TG_CHECK(is_floating(x.dtype()) || (std::isfinite(value) && std::trunc(value) == value), op, ": ",
           dtype_name(x.dtype()), " tensor ", shape_str(x.shape()), " with the scalar ", value,
           " would need type promotion (not supported yet); convert first, e.g. to_dtype(x, kFloat32)");
  return scalar_tensor(value, x.dtype());
}

}  // namespace tg::internal
