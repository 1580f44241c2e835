// tapegrad/autograd/functions/activation.cc: op rows for relu, leaky_relu, sigmoid, tanh, gelu,
// softmax, log_softmax and dropout.
#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "ops/elementwise.h"
#include "ops/internal/elementwise_math.h"
#include "ops/softmax.h"

namespace tg {

using internal::constant;
using ops::UnaryOp;

// The mask is constant almost everywhere, so this is also the exact second derivative (zero).
// Without create_graph nothing differentiates the result: one fused pass instead.
Tensor internal::relu_backward(const Tensor& grad, const Tensor& output) {
  if (!GradMode::is_enabled()) return Tensor(ops::binary(ops::BinaryOp::kMaskByPositive, grad.data(), output.data()));
  return grad * constant(ops::unary(UnaryOp::kPositiveMask, output.data()));
}

namespace {

const OpDef& kRelu = define_op({
    .name = "relu",
    .forward = [](ForwardContext& c) { return ops::unary(UnaryOp::kRelu, c.in(0)); },
    .backward = [](BackwardContext& c) -> Grads { return {internal::relu_backward(c.grad, c.output())}; },
    .save_output = true,
    .onnx = {{.op_type = "Relu"}},
});

const OpDef& kLeakyRelu = define_op({
    .name = "leaky_relu",
    .forward = [](ForwardContext& c) { return ops::leaky_relu(c.in(0), c.attrs.f("negative_slope")); },
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * constant(ops::leaky_relu_slope(c.input(0).data(), c.attrs().f("negative_slope")))};
    },
    .save_inputs = {0},
    .attr_schema = {{"negative_slope", AttrType::kFloat}},
    .onnx = {{.op_type = "LeakyRelu", .attrs = {{"alpha", "negative_slope"}}}},
});

const OpDef& kSigmoid = define_op({
    .name = "sigmoid",
    .forward = [](ForwardContext& c) { return ops::unary(UnaryOp::kSigmoid, c.in(0)); },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor y = c.output();
      return {c.grad * y * (1.0 - y)};
    },
    .save_output = true,
    .onnx = {{.op_type = "Sigmoid"}},
});

const OpDef& kTanh = define_op({
    .name = "tanh",
    .forward = [](ForwardContext& c) { return ops::unary(UnaryOp::kTanh, c.in(0)); },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor y = c.output();
      return {c.grad * (1.0 - y * y)};
    },
    .save_output = true,
    .onnx = {{.op_type = "Tanh"}},
});

// gelu'(x) as a row of its own, so that gelu's gradient is differentiable again, with its own
// derivative written with differentiable ops (every order exact). The erf form: gelu'(x) =
// Phi(x) + x phi(x), gelu''(x) = phi(x) (2 - x^2). The tanh form, u = k (x + c x^3), t = tanh(u):
// gelu'(x) = (1 + t) / 2 + x (1 - t^2) u' / 2, gelu''(x) = (1 - t^2) (u' - x t u'^2 + 3 c k x^2).
bool tanh_form(const Attrs& a) {
  if (!a.has("approximate")) return false;
  const std::string& form = a.s("approximate");
  TG_CHECK(form == "none" || form == "tanh", "gelu: approximate must be \"none\" or \"tanh\", got \"", form, "\"");
  return form == "tanh";
}

const OpDef& kGeluDerivative = define_op({
    .name = "gelu_derivative",
    .forward = [](ForwardContext& c) {
      return ops::unary(tanh_form(c.attrs) ? UnaryOp::kGeluTanhDerivative : UnaryOp::kGeluDerivative, c.in(0));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0);
      if (tanh_form(c.attrs())) {
        constexpr double k = ops::internal::kSqrt2OverPi, cubic = ops::internal::kGeluTanhCubic;
        const Tensor t = tanh((x + x * x * x * cubic) * k), du = (1.0 + x * x * (3.0 * cubic)) * k;
        return {c.grad * (1.0 - t * t) * (du - x * t * du * du + x * x * (3.0 * cubic * k))};
      }
      const Tensor pdf = exp(x * x * -0.5) * 0.3989422804014327;  // the standard normal density
      return {c.grad * pdf * (2.0 - x * x)};
    },
    .save_inputs = {0},
    .attr_schema = {{"approximate", AttrType::kString, -1, true}},
    .not_onnx = "backward-only row (the derivative of gelu)",
});

const OpDef& kGelu = define_op({
    .name = "gelu",
    .forward = [](ForwardContext& c) {
      return ops::unary(tanh_form(c.attrs) ? UnaryOp::kGeluTanh : UnaryOp::kGelu, c.in(0));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {c.grad * apply_op(kGeluDerivative, {c.input(0)}, c.attrs())};
    },
    .save_inputs = {0},
    .attr_schema = {{"approximate", AttrType::kString, -1, true}},
    .not_onnx = "ONNX has Gelu only from opset 20; tapegrad writes opset 13",
});

const OpDef& kSoftmax = define_op({
    .name = "softmax",
    .forward = [](ForwardContext& c) { return ops::softmax(c.in(0), c.attrs.i("dim")); },
    // dx = y * (g - sum(g * y, dim))
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor y = c.output();
      const int64_t dim = c.attrs().i("dim");
      return {y * (c.grad - sum(c.grad * y, {dim}, /*keepdim=*/true))};
    },
    .save_output = true,
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "Softmax", .attrs = {{"axis", "dim"}}}},
});

const OpDef& kLogSoftmax = define_op({
    .name = "log_softmax",
    .forward = [](ForwardContext& c) { return ops::log_softmax(c.in(0), c.attrs.i("dim")); },
    // dx = g - exp(y) * sum(g, dim)
    .backward = [](BackwardContext& c) -> Grads {
      const int64_t dim = c.attrs().i("dim");
      return {c.grad - exp(c.output()) * sum(c.grad, {dim}, /*keepdim=*/true)};
    },
    .save_output = true,
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "LogSoftmax", .attrs = {{"axis", "dim"}}}},
});

// Note [Dropout mask]: the scaled mask (0 or 1/(1-p)) is drawn in forward and kept as an extra;
// in eval mode (or p == 0) the op is the identity but is still recorded, so a traced graph keeps
// a dropout node whose behaviour follows train/eval.
const OpDef& kDropout = define_op({
    .name = "dropout",
    .forward = [](ForwardContext& c) {
      const double p = c.attrs.f("p");
      if (!c.attrs.b("training") || p == 0.0) return c.in(0);
      ops::Generator& gen = c.generator ? *c.generator : ops::default_generator();
      ops::Array mask = ops::bernoulli(c.in(0).shape(), 1.0 - p, c.in(0).dtype(), gen);
      if (p < 1.0) mask = ops::scale(mask, 1.0 / (1.0 - p));
      c.extras.push_back(mask);
      return ops::binary(ops::BinaryOp::kMul, c.in(0), mask);
    },
    .backward = [](BackwardContext& c) -> Grads {
      if (!c.attrs().b("training") || c.attrs().f("p") == 0.0) return {c.grad};
      return {c.grad * c.extra(0)};
    },
    .attr_schema = {{"p", AttrType::kFloat}, {"training", AttrType::kBool}},
    .onnx = {{.op_type = "Dropout",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kScalar, "p"),
                         onnx_attr_in(OnnxInputForm::kBoolScalar, "training")}}},
});

}  // namespace


Tensor relu(const Tensor& x) { return apply_op(kRelu, {x}); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return apply_op(kLeakyRelu, {x}, {{"negative_slope", slope}});
}
Tensor sigmoid(const Tensor& x) { return apply_op(kSigmoid, {x}); }
Tensor tanh(const Tensor& x) { return apply_op(kTanh, {x}); }
Tensor gelu(const Tensor& x, const std::string& approximate) {
  TG_CHECK(approximate == "none" || approximate == "tanh", "gelu: approximate must be \"none\" or \"tanh\", got \"",
           approximate, "\"");
  if (approximate == "none") return apply_op(kGelu, {x});  // graphs stay as before
  return apply_op(kGelu, {x}, {{"approximate", approximate}});
}
Tensor softmax(const Tensor& x, int64_t dim) {
  return apply_op(kSoftmax, {x}, {{"dim", ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "softmax")}});
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return apply_op(kLogSoftmax, {x},
                  {{"dim", ops::wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "log_softmax")}});
}
Tensor dropout(const Tensor& x, double p, bool training, ops::Generator* gen) {
  TG_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  return apply_op(kDropout, {x}, {{"p", p}, {"training", training}}, gen);
}

}  // namespace tg
