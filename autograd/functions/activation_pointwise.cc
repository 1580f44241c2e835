// tapegrad/autograd/functions/activation_pointwise.cc: op rows for the pointwise activations
// beyond the ReLU family: elu, selu, celu, softplus, silu, mish, hardtanh, hardsigmoid,
// hardswish, log_sigmoid, prelu; and glu as a composition. Gradients follow PyTorch's at the
// kinks (hardtanh passes none at its bounds, hardswish takes its middle piece at -3 and 3).
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/elementwise.h"

namespace tg {

using internal::constant;
using internal::if_needed;
using internal::unary_forward;
using ops::CompareOp;
using ops::ParametricUnaryOp;
using ops::UnaryOp;

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// 1 where x `op` value, else 0, in x's dtype: a constant mask.
Tensor mask(const Tensor& x, CompareOp op, double value) {
  return constant(ops::compare(op, x.data(), ops::Array::scalar(value, x.dtype())).to(x.dtype()));
}

// Note [Derivatives at a breakpoint]: PyTorch takes one side's slope at a breakpoint of a
// piecewise function but gives it no derivative of its own there (its double backward tests the
// other way round: elu at 0 has slope alpha, second derivative 0). A backward here writes its
// slope as the differentiable pieces on the open intervals plus the breakpoint's slope as a
// constant, which gives both of PyTorch's values.

// elu and selu: y = scale * (x > 0 ? x : alpha (e^x - 1)); dy/dx = scale for x > 0, else
// y + scale * alpha (written with the output, so every order is exact).
Grads elu_backward(BackwardContext& c, double alpha, double scale) {
  const Tensor x = c.input(0);
  const Tensor positive = mask(x, CompareOp::kGt, 0.0), negative = mask(x, CompareOp::kLt, 0.0);
  const Tensor at_zero = mask(x, CompareOp::kEq, 0.0);
  return {c.grad * (positive * scale + negative * (c.output() + scale * alpha) + at_zero * (scale * alpha))};
}

const OpDef& kElu = define_op({
    .name = "elu",
    .forward = [](ForwardContext& c) {
      return ops::parametric_unary(ParametricUnaryOp::kElu, c.in(0), c.attrs.f("alpha"), 1.0);
    },
    .backward = [](BackwardContext& c) { return elu_backward(c, c.attrs().f("alpha"), 1.0); },
    .save_inputs = {0},
    .save_output = true,
    .attr_schema = {{"alpha", AttrType::kFloat}},
    .onnx = {{.op_type = "Elu", .attrs = {{"alpha", "alpha"}}}},
});

const OpDef& kSelu = define_op({
    .name = "selu",
    .forward = [](ForwardContext& c) {
      return ops::parametric_unary(ParametricUnaryOp::kElu, c.in(0), kSeluAlpha, kSeluScale);
    },
    .backward = [](BackwardContext& c) { return elu_backward(c, kSeluAlpha, kSeluScale); },
    .save_inputs = {0},
    .save_output = true,
    .onnx = {{.op_type = "Selu"}},
});

// celu: x > 0 ? x : alpha (e^(x/alpha) - 1); the slope below 0 is y / alpha + 1.
const OpDef& kCelu = define_op({
    .name = "celu",
    .forward = [](ForwardContext& c) {
      return ops::parametric_unary(ParametricUnaryOp::kCelu, c.in(0), c.attrs.f("alpha"));
    },
    .backward = [](BackwardContext& c) -> Grads {  // Note [Derivatives at a breakpoint]
      const Tensor x = c.input(0);
      const Tensor positive = mask(x, CompareOp::kGt, 0.0), negative = mask(x, CompareOp::kLt, 0.0);
      return {c.grad * (positive + negative * (c.output() / c.attrs().f("alpha") + 1.0) + mask(x, CompareOp::kEq, 0.0))};
    },
    .save_inputs = {0},
    .save_output = true,
    .attr_schema = {{"alpha", AttrType::kFloat}},
    .onnx = {{.op_type = "Celu", .attrs = {{"alpha", "alpha"}}}},
});

// softplus: log(1 + e^(beta x)) / beta, linear where beta x > threshold; slope sigmoid(beta x).
const OpDef& kSoftplus = define_op({
    .name = "softplus",
    .forward = [](ForwardContext& c) {
      return ops::parametric_unary(ParametricUnaryOp::kSoftplus, c.in(0), c.attrs.f("beta"), c.attrs.f("threshold"));
    },
    .backward = [](BackwardContext& c) -> Grads {  // Note [Derivatives at a breakpoint]
      const Tensor x = c.input(0);
      const double beta = c.attrs().f("beta"), threshold = c.attrs().f("threshold");
      const Tensor bx = x * beta;
      const Tensor linear = mask(bx, CompareOp::kGt, threshold), below = mask(bx, CompareOp::kLt, threshold);
      const Tensor at_threshold = mask(bx, CompareOp::kEq, threshold);
      return {c.grad * (linear + below * sigmoid(bx) + at_threshold * (1.0 / (1.0 + std::exp(-threshold))))};
    },
    .save_inputs = {0},
    .attr_schema = {{"beta", AttrType::kFloat}, {"threshold", AttrType::kFloat}},
    // ONNX's Softplus has neither beta nor threshold: past the threshold the two differ by
    // e^-threshold / beta, below float32's resolution only for a threshold of 15 or more.
    .onnx = {{.op_type = "Div(Softplus(Mul(x, beta)), beta)",
              .refuse = [](const Attrs& a, const std::vector<bool>&) -> std::string {
                return a.f("threshold") >= 15.0 ? "" : "softplus with a threshold below 15 (ONNX's has none)";
              },
              .steps = {{.op_type = "Mul", .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kScalar, "beta")}},
                        {.op_type = "Softplus", .inputs = {onnx_step(0)}},
                        {.op_type = "Div", .inputs = {onnx_step(1), onnx_attr_in(OnnxInputForm::kScalar, "beta")}}}}},
});

// silu: x sigmoid(x); slope s (1 + x (1 - s)).
const OpDef& kSilu = define_op({
    .name = "silu",
    .forward = unary_forward<UnaryOp::kSilu>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0), s = sigmoid(x);
      return {c.grad * s * (1.0 + x * (1.0 - s))};
    },
    .save_inputs = {0},
    .onnx = {{.op_type = "Mul(x, Sigmoid(x))",
              .steps = {{.op_type = "Sigmoid"}, {.op_type = "Mul", .inputs = {onnx_in(0), onnx_step(0)}}}}},
});

// mish: x tanh(softplus(x)); slope t + x (1 - t^2) sigmoid(x).
const OpDef& kMish = define_op({
    .name = "mish",
    .forward = unary_forward<UnaryOp::kMish>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0), t = tanh(softplus(x));
      return {c.grad * (t + x * (1.0 - t * t) * sigmoid(x))};
    },
    .save_inputs = {0},
    .onnx = {{.op_type = "Mul(x, Tanh(Softplus(x)))",
              .steps = {{.op_type = "Softplus"},
                        {.op_type = "Tanh", .inputs = {onnx_step(0)}},
                        {.op_type = "Mul", .inputs = {onnx_in(0), onnx_step(1)}}}}},
});

// hardtanh: clamp to [min_val, max_val], but no gradient at the bounds themselves (PyTorch's
// hardtanh_backward; clamp passes it there).
Tensor inside_open(const Tensor& x, double lo, double hi) {
  return constant(ops::parametric_unary(ParametricUnaryOp::kInsideOpen, x.data(), lo, hi));
}

const OpDef& kHardtanh = define_op({
    .name = "hardtanh",
    .forward = [](ForwardContext& c) { return ops::clamp(c.in(0), c.attrs.f("min_val"), c.attrs.f("max_val")); },
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * inside_open(c.input(0), c.attrs().f("min_val"), c.attrs().f("max_val"))};
    },
    .save_inputs = {0},
    .attr_schema = {{"min_val", AttrType::kFloat}, {"max_val", AttrType::kFloat}},
    .onnx = {{.op_type = "Clip",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kScalar, "min_val"),
                         onnx_attr_in(OnnxInputForm::kScalar, "max_val")}}},
});

const OnnxMapping kHardsigmoidNode = {.op_type = "HardSigmoid", .fixed_floats = {{"alpha", 1.0 / 6.0}, {"beta", 0.5}}};

// hardsigmoid: relu6(x + 3) / 6; slope 1/6 strictly inside (-3, 3).
const OpDef& kHardsigmoid = define_op({
    .name = "hardsigmoid",
    .forward = unary_forward<UnaryOp::kHardsigmoid>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * inside_open(c.input(0), -3.0, 3.0) / 6.0}; },
    .save_inputs = {0},
    .onnx = {kHardsigmoidNode},
});

// hardswish: x hardsigmoid(x); slope 0 below -3, x/3 + 1/2 on [-3, 3), 1 from 3 on (PyTorch's,
// with Note [Derivatives at a breakpoint] at -3).
const OpDef& kHardswish = define_op({
    .name = "hardswish",
    .forward = unary_forward<UnaryOp::kHardswish>,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0);
      const Tensor middle = inside_open(x, -3.0, 3.0), from_three = mask(x, CompareOp::kGe, 3.0);
      return {c.grad * (middle * (x / 3.0 + 0.5) + from_three - mask(x, CompareOp::kEq, -3.0) * 0.5)};
    },
    .save_inputs = {0},
    .onnx = {{.op_type = "Mul(x, HardSigmoid(x))",  // ONNX has HardSwish only from opset 14
              .steps = {kHardsigmoidNode, {.op_type = "Mul", .inputs = {onnx_in(0), onnx_step(0)}}}}},
});

// log_sigmoid: -softplus(-x); slope sigmoid(-x).
const OpDef& kLogSigmoid = define_op({
    .name = "log_sigmoid",
    .forward = unary_forward<UnaryOp::kLogSigmoid>,
    .backward = [](BackwardContext& c) -> Grads { return {c.grad * sigmoid(neg(c.input(0)))}; },
    .save_inputs = {0},
    .onnx = {{.op_type = "Neg(Softplus(Neg(x)))", .steps = onnx_chain({"Neg", "Softplus", "Neg"})}},
});

// prelu: x > 0 ? x : w x, w broadcast against x (prelu() shapes it [C, 1, ...]).
const OpDef& kPrelu = define_op({
    .name = "prelu",
    .forward = [](ForwardContext& c) {
      const ops::Array positive = ops::compare(CompareOp::kGt, c.in(0), ops::Array::scalar(0.0, c.in(0).dtype()));
      return ops::where(positive, c.in(0).expand(ops::broadcast_shapes(c.in(0).shape(), c.in(1).shape(), "prelu")),
                        ops::binary(ops::BinaryOp::kMul, c.in(0), c.in(1)));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0), w = c.input(1);
      const Tensor positive = mask(x, CompareOp::kGt, 0.0);
      return {if_needed(c, 0, [&] { return c.grad * (positive + (1.0 - positive) * w); }),
              if_needed(c, 1, [&] { return sum_to(c.grad * x * (1.0 - positive), c.input_shape(1)); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "PRelu"}},
});

}  // namespace

Tensor elu(const Tensor& x, double alpha) { return apply_op(kElu, {x}, {{"alpha", alpha}}); }
Tensor selu(const Tensor& x) { return apply_op(kSelu, {x}); }
Tensor celu(const Tensor& x, double alpha) {
  TG_CHECK(alpha != 0.0, "celu: alpha must not be 0");
  return apply_op(kCelu, {x}, {{"alpha", alpha}});
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  TG_CHECK(beta > 0.0, "softplus: beta must be positive, got ", beta);
  return apply_op(kSoftplus, {x}, {{"beta", beta}, {"threshold", threshold}});
}
Tensor silu(const Tensor& x) { return apply_op(kSilu, {x}); }
Tensor mish(const Tensor& x) { return apply_op(kMish, {x}); }
Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  TG_CHECK(min_val <= max_val, "hardtanh: min_val ", min_val, " > max_val ", max_val);
  return apply_op(kHardtanh, {x}, {{"min_val", min_val}, {"max_val", max_val}});
}
Tensor hardsigmoid(const Tensor& x) { return apply_op(kHardsigmoid, {x}); }
Tensor hardswish(const Tensor& x) { return apply_op(kHardswish, {x}); }
Tensor log_sigmoid(const Tensor& x) { return apply_op(kLogSigmoid, {x}); }

Tensor prelu(const Tensor& x, const Tensor& weight) {
  TG_CHECK(weight.dim() <= 1, "prelu: weight must be 1-D, got ", shape_str(weight.shape()));
  const int64_t channels = x.dim() >= 2 ? x.size(1) : 1;
  TG_CHECK(weight.numel() == 1 || weight.numel() == channels, "prelu: weight has ", weight.numel(),
           " values; input ", shape_str(x.shape()), " needs 1 or ", channels, " (one per channel, dim 1)");
  TG_CHECK(weight.dtype() == x.dtype(), "prelu: weight is ", dtype_name(weight.dtype()), ", input ", dtype_name(x.dtype()));
  Shape w_shape{weight.numel()};
  for (int64_t d = 2; d < x.dim(); ++d) w_shape.push_back(1);
  if (weight.numel() == 1) w_shape = {};
  return apply_op(kPrelu, {x, reshape(weight, w_shape)});
}

Tensor glu(const Tensor& x, int64_t dim) {
  const int64_t d = ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "glu");
  TG_CHECK(x.dim() > 0 && x.size(d) % 2 == 0, "glu: dim ", dim, " of ", shape_str(x.shape()),
           " must have an even size (it is halved)");
  const int64_t half = x.size(d) / 2;
  return narrow(x, d, 0, half) * sigmoid(narrow(x, d, half, half));
}

}  // namespace tg
