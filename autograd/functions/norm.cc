// tapegrad/autograd/functions/norm.cc: the batch_norm row (training with running statistics, eval;
// inputs x [N, C, *], running_mean [C], running_var [C], weight [C]?, bias [C]?) and the
// layer_norm row (inputs x [*, normalized_shape], weight and bias [normalized_shape]?).
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"
#include "ops/layer_norm.h"
#include "autograd/grad_mode.h"

namespace tg {

using internal::constant;
using internal::if_needed;

namespace {

// invstd = 1 / sqrt(var + eps)
ops::Array inverse_std(const ops::Array& var, double eps) {
  ops::Array v = ops::binary(ops::BinaryOp::kAdd, var, ops::Array::scalar(eps, var.dtype()));
  return ops::binary(ops::BinaryOp::kDiv, ops::Array::scalar(1.0, var.dtype()), ops::unary(ops::UnaryOp::kSqrt, v));
}

// A per-channel [C] tensor reshaped to broadcast against [N, C, *] of rank `rank`.
Tensor per_channel(const Tensor& t, int64_t rank) {
  Shape s(rank, 1);
  s[1] = t.numel();
  return reshape(t, s);
}

// Note [batch_norm backward]: with xhat = (x - mean) * invstd and M = N * prod(spatial),
//   training: dx = w * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat))
//   eval:     dx = w * invstd * g      (the statistics are constants)
//   dw = sum(g * xhat), db = sum(g), sums over every dim but 1.
// mean/invstd are saved constants, so the op is differentiable once (double_differentiable=false).
// Without create_graph the backward is ops::batch_norm_backward, the same formula fused into two
// passes; with it, the composition below (so the gradient is itself recorded).
// Opset 13's BatchNormalization is the inference form: running statistics, affine weight and bias.
std::string batch_norm_is_not_inference(const Attrs& a, const std::vector<bool>& present) {
  if (a.b("training")) return "batch_norm in training mode (batch statistics) is exported in eval mode only";
  if (present.size() < 3 || !present[1] || !present[2]) return "batch_norm without running statistics has no ONNX inference mapping";
  if (present.size() < 5 || !present[3] || !present[4]) return "batch_norm without affine weight and bias is not exported";
  return "";
}

const OpDef& kBatchNorm = define_op({
    .name = "batch_norm",
    .forward = [](ForwardContext& c) {
      const ops::Array& x = c.in(0);
      // Checked here, not only in batch_norm(): loaded graphs call the row directly.
      TG_CHECK(x.dim() >= 2 && x.size(1) > 0, "batch_norm: input must be [N, C, *] with C > 0, got ",
               shape_str(x.shape()));
      static const char* kNames[] = {"input", "running_mean", "running_var", "weight", "bias"};
      for (size_t i = 1; i < 5; ++i) {
        if (!c.has(i)) continue;
        TG_CHECK(c.in(i).shape() == Shape{x.size(1)}, "batch_norm: ", kNames[i], " ", shape_str(c.in(i).shape()),
                 " does not match ", x.size(1), " channels of input ", shape_str(x.shape()));
        TG_CHECK(c.in(i).dtype() == x.dtype() || i < 3, "batch_norm: ", kNames[i], " is ", dtype_name(c.in(i).dtype()),
                 ", input is ", dtype_name(x.dtype()));
        TG_CHECK(is_floating(c.in(i).dtype()), "batch_norm: ", kNames[i], " must be floating, is ",
                 dtype_name(c.in(i).dtype()));
      }
      const double eps = c.attrs.f("eps");
      TG_CHECK(eps > 0, "batch_norm: eps must be positive, got ", eps);
      TG_CHECK(!c.attrs.b("training") || x.numel() / x.size(1) > 1,
               "batch_norm: expected more than 1 value per channel when training, got input ", shape_str(x.shape()));
      ops::Array mean, invstd;
      if (c.attrs.b("training")) {
        auto [batch_mean, batch_var] = ops::batch_norm_stats(x);
        mean = batch_mean;
        invstd = inverse_std(batch_var, eps);
        if (c.has(1) && c.has(2)) {
          // running = (1 - momentum) * running + momentum * batch (unbiased variance), in place.
          const double momentum = c.attrs.f("momentum");
          const double count = static_cast<double>(x.numel() / x.size(1));
          const double unbias = count > 1 ? count / (count - 1) : 1.0;
          ops::Array rm = c.in(1), rv = c.in(2);
          ops::add_into(rm, ops::scale(rm, -momentum));
          ops::add_into(rm, batch_mean.to(rm.dtype()), momentum);
          ops::add_into(rv, ops::scale(rv, -momentum));
          ops::add_into(rv, batch_var.to(rv.dtype()), momentum * unbias);
          // Written in place: their versions move, as PyTorch's do (a reader caching values
          // derived from them, like the ONNX importer's folded convolutions, sees the change).
          rm.storage()->bump_version("batch_norm");
          rv.storage()->bump_version("batch_norm");
        }
      } else {
        TG_CHECK(c.has(1) && c.has(2), "batch_norm: eval mode needs running_mean and running_var");
        mean = c.in(1).to(x.dtype());
        invstd = inverse_std(c.in(2).to(x.dtype()), eps);
      }
      c.extras.push_back(mean);
      c.extras.push_back(invstd);
      return ops::batch_norm_apply(x, mean, invstd, c.has(3) ? c.in(3) : ops::Array(),
                                   c.has(4) ? c.in(4) : ops::Array());
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0);
      const bool has_weight = !c.input_shape(3).empty();
      if (!GradMode::is_enabled()) {  // no create_graph: the fused kernel, same formula
        const ops::BatchNormGrads g = ops::batch_norm_backward(
            c.grad.data(), x.data(), c.extra(0).data(), c.extra(1).data(), has_weight ? c.input(3).data() : ops::Array(),
            c.attrs().b("training"), c.needs_grad(0), c.needs_grad(3), c.needs_grad(4));
        auto wrap = [](const ops::Array& a) { return a.defined() ? constant(a) : Tensor(); };
        return {wrap(g.input), Tensor(), Tensor(), wrap(g.weight), wrap(g.bias)};
      }
      const int64_t rank = x.dim();
      Shape dims{0};
      for (int64_t d = 2; d < rank; ++d) dims.push_back(d);
      const Tensor mean = per_channel(c.extra(0), rank), invstd = per_channel(c.extra(1), rank);
      const Tensor xhat = (x - mean) * invstd;
      const Tensor w = has_weight ? per_channel(c.input(3), rank) : Tensor();
      const Tensor scale = w.defined() ? w * invstd : invstd;
      Tensor gx;
      if (c.needs_grad(0)) {
        if (c.attrs().b("training")) {
          const double m = static_cast<double>(x.numel() / x.size(1));
          const Tensor gsum = sum(c.grad, dims, true), gxhat = sum(c.grad * xhat, dims, true);
          gx = scale / m * (c.grad * m - gsum - xhat * gxhat);
        } else {
          gx = c.grad * scale;
        }
      }
      return {gx, Tensor(), Tensor(), if_needed(c, 3, [&] { return sum(c.grad * xhat, dims); }),
              if_needed(c, 4, [&] { return sum(c.grad, dims); })};
    },
    .save_inputs = {0, 3},
    .double_differentiable = false,
    .min_inputs = 1,
    .max_inputs = 5,
    .attr_schema = {{"training", AttrType::kBool}, {"momentum", AttrType::kFloat}, {"eps", AttrType::kFloat}},
    // BatchNormalization(X, scale, B, mean, var); tapegrad's inputs are (x, mean, var, weight?, bias?).
    .onnx = {{.op_type = "BatchNormalization",
              .inputs = {onnx_in(0), onnx_in(3), onnx_in(4), onnx_in(1), onnx_in(2)},
              .attrs = {{"epsilon", "eps"}, {"momentum", "momentum", OnnxAttrForm::kOneMinus}},
              .refuse = batch_norm_is_not_inference}},
});

// Note [layer_norm backward]: over the normalized dims D (n elements), xhat = (x - mean) * rstd,
//   gxhat = g * w,  dx = rstd * (gxhat - mean_D(gxhat) - xhat * mean_D(gxhat * xhat)),
//   dw = sum over the other dims of g * xhat, db = sum of g.
// The forward's mean and rstd serve a first-order backward; under create_graph the backward
// recomputes them from x with differentiable ops, so the gradient is itself differentiable in x.
std::string layer_norm_affine_is(const std::vector<bool>& present, bool weight, bool bias) {
  const bool w = present.size() > 1 && present[1], b = present.size() > 2 && present[2];
  if (w == weight && b == bias) return "";
  if (b && !w) return "layer_norm with a bias but no weight is not exported";
  return "another mapping";
}
// ONNX opset 13 has no LayerNormalization (opset 17): ReduceMean, Sub, Mul, ReduceMean, Add(eps),
// Sqrt, Div, then Mul(weight) and Add(bias) when present.
std::vector<OnnxMapping> layer_norm_steps(bool weight, bool bias) {
  std::vector<OnnxMapping> steps = {
      {.op_type = "ReduceMean", .inputs = {onnx_in(0)}, .attrs = {{"axes", "axes"}}, .fixed_ints = {{"keepdims", 1}}},
      {.op_type = "Sub", .inputs = {onnx_in(0), onnx_step(0)}},
      {.op_type = "Mul", .inputs = {onnx_step(1), onnx_step(1)}},
      {.op_type = "ReduceMean", .inputs = {onnx_step(2)}, .attrs = {{"axes", "axes"}}, .fixed_ints = {{"keepdims", 1}}},
      {.op_type = "Add", .inputs = {onnx_step(3), onnx_attr_in(OnnxInputForm::kScalar, "eps")}},
      {.op_type = "Sqrt", .inputs = {onnx_step(4)}},
      {.op_type = "Div", .inputs = {onnx_step(1), onnx_step(5)}},
  };
  if (weight) steps.push_back({.op_type = "Mul", .inputs = {onnx_step(6), onnx_in(1)}});
  if (bias) steps.push_back({.op_type = "Add", .inputs = {onnx_step(static_cast<int>(steps.size()) - 1), onnx_in(2)}});
  return steps;
}

const OpDef& kLayerNorm = define_op({
    .name = "layer_norm",
    .forward = [](ForwardContext& c) {
      const ops::Array& x = c.in(0);
      const std::vector<int64_t>& axes = c.attrs.ints("axes");
      const int64_t k = static_cast<int64_t>(axes.size());
      TG_CHECK(k > 0 && k <= x.dim(), "layer_norm: ", k, " normalized dims for input ", shape_str(x.shape()));
      TG_CHECK(is_floating(x.dtype()), "layer_norm: input must be floating, got ", dtype_name(x.dtype()));
      const Shape normalized(x.shape().end() - k, x.shape().end());
      int64_t inner = 1;
      for (int64_t i = 0; i < k; ++i) {
        TG_CHECK(axes[i] == i - k, "layer_norm: axes must be the trailing dims -", k, "..-1");
        inner *= normalized[i];
      }
      static const char* kNames[] = {"input", "weight", "bias"};
      for (size_t i = 1; i < 3; ++i) {
        if (!c.has(i)) continue;
        TG_CHECK(c.in(i).shape() == normalized, "layer_norm: ", kNames[i], " ", shape_str(c.in(i).shape()),
                 " does not match the normalized shape ", shape_str(normalized), " of input ", shape_str(x.shape()));
        TG_CHECK(c.in(i).dtype() == x.dtype(), "layer_norm: ", kNames[i], " is ", dtype_name(c.in(i).dtype()),
                 ", input is ", dtype_name(x.dtype()));
      }
      const double eps = c.attrs.f("eps");
      TG_CHECK(eps >= 0, "layer_norm: eps must be non-negative, got ", eps);
      TG_CHECK(inner > 0 || x.numel() == 0, "layer_norm: the normalized shape ", shape_str(normalized), " is empty");
      if (x.numel() == 0) {
        c.extras.push_back(ops::Array::empty({0}, x.dtype()));
        c.extras.push_back(ops::Array::empty({0}, x.dtype()));
        return ops::Array::empty(x.shape(), x.dtype());
      }
      ops::LayerNormResult r =
          ops::layer_norm(x, inner, c.has(1) ? c.in(1) : ops::Array(), c.has(2) ? c.in(2) : ops::Array(), eps);
      c.extras.push_back(r.mean);
      c.extras.push_back(r.rstd);
      return r.y;
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0);
      const std::vector<int64_t>& axes = c.attrs().ints("axes");
      const int64_t k = static_cast<int64_t>(axes.size()), lead = x.dim() - k;
      Shape norm_dims, lead_dims, stats_shape(x.shape().begin(), x.shape().begin() + lead);
      for (int64_t d = lead; d < x.dim(); ++d) norm_dims.push_back(d), stats_shape.push_back(1);
      for (int64_t d = 0; d < lead; ++d) lead_dims.push_back(d);
      Tensor mu, rstd;
      if (GradMode::is_enabled()) {
        mu = mean(x, norm_dims, true);
        rstd = rsqrt(mean((x - mu) * (x - mu), norm_dims, true) + c.attrs().f("eps"));
      } else {
        mu = reshape(c.extra(0), stats_shape);
        rstd = reshape(c.extra(1), stats_shape);
      }
      const Tensor xhat = (x - mu) * rstd;
      const bool has_weight = !c.input_shape(1).empty();
      // Sums over the leading dims (none: the tensor itself, not sum's "all dims").
      auto sum_lead = [&](const Tensor& t) { return lead == 0 ? t : sum(t, lead_dims); };
      Tensor gx;
      if (c.needs_grad(0)) {
        const Tensor gxhat = has_weight ? c.grad * c.input(1) : c.grad;
        gx = rstd * (gxhat - mean(gxhat, norm_dims, true) - xhat * mean(gxhat * xhat, norm_dims, true));
      }
      return {gx, if_needed(c, 1, [&] { return sum_lead(c.grad * xhat); }), if_needed(c, 2, [&] { return sum_lead(c.grad); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 1,
    .max_inputs = 3,
    .attr_schema = {{"axes", AttrType::kInts}, {"eps", AttrType::kFloat}},
    .onnx = {{.op_type = "LayerNorm(x) * weight + bias",
              .refuse = [](const Attrs&, const std::vector<bool>& p) { return layer_norm_affine_is(p, true, true); },
              .steps = layer_norm_steps(true, true)},
             {.op_type = "LayerNorm(x) * weight",
              .refuse = [](const Attrs&, const std::vector<bool>& p) { return layer_norm_affine_is(p, true, false); },
              .steps = layer_norm_steps(true, false)},
             {.op_type = "LayerNorm(x)",
              .refuse = [](const Attrs&, const std::vector<bool>& p) { return layer_norm_affine_is(p, false, false); },
              .steps = layer_norm_steps(false, false)}},
});

}  // namespace


Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const Shape& normalized = normalized_shape.vec();
  const int64_t k = static_cast<int64_t>(normalized.size());
  TG_CHECK(k > 0, "layer_norm: normalized_shape must not be empty");
  TG_CHECK(input.dim() >= k && Shape(input.shape().end() - k, input.shape().end()) == normalized, "layer_norm: input ",
           shape_str(input.shape()), " does not end in the normalized shape ", shape_str(normalized));
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < k; ++i) axes.push_back(i - k);
  return apply_op(kLayerNorm, {input, weight, bias}, {{"axes", axes}, {"eps", eps}});
}

// Per-channel affine on [N, C, *].
static Tensor channel_affine(const Tensor& y, const Tensor& weight, const Tensor& bias, const char* op) {
  const int64_t c = y.size(1);
  for (const Tensor* p : {&weight, &bias}) {
    TG_CHECK(!p->defined() || p->shape() == Shape{c}, op, ": weight/bias ", shape_str(p->shape()), " should be [", c, "]");
  }
  Shape s(y.dim(), 1);
  s[1] = c;
  Tensor out = weight.defined() ? y * reshape(weight, s) : y;
  return bias.defined() ? out + reshape(bias, s) : out;
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  TG_CHECK(input.dim() >= 2, "group_norm: input must be [N, C, *], got ", shape_str(input.shape()));
  const int64_t c = input.size(1);
  TG_CHECK(num_groups > 0 && c % num_groups == 0, "group_norm: ", c, " channels of input ", shape_str(input.shape()),
           " do not split into ", num_groups, " groups");
  // [N, C, *] -> [N, C * prod(*)] -> [N, G, rest], normalized over the last dim, and back: only
  // last-dim splits and flattens to the end, so no literal batch size and an ONNX Reshape each.
  Shape channels_and_positions(input.shape().begin() + 1, input.shape().end());
  const Tensor grouped = unflatten(flatten(input, 1), 1, {num_groups, -1});
  const Tensor normalized = layer_norm(grouped, {grouped.size(2)}, {}, {}, eps);
  return channel_affine(unflatten(flatten(normalized, 1), 1, channels_and_positions), weight, bias, "group_norm");
}

Tensor instance_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, double eps) {
  TG_CHECK(input.dim() >= 3, "instance_norm: input must be [N, C, L] or [N, C, H, W], got ", shape_str(input.shape()));
  return group_norm(input, input.size(1), weight, bias, eps);
}

Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight, std::optional<double> eps) {
  const Shape& normalized = normalized_shape.vec();
  const int64_t k = static_cast<int64_t>(normalized.size());
  TG_CHECK(k > 0 && input.dim() >= k && Shape(input.shape().end() - k, input.shape().end()) == normalized,
           "rms_norm: input ", shape_str(input.shape()), " does not end in the normalized shape ", shape_str(normalized));
  TG_CHECK(!weight.defined() || weight.shape() == normalized, "rms_norm: weight ", shape_str(weight.shape()),
           " does not match the normalized shape ", shape_str(normalized));
  TG_CHECK(is_floating(input.dtype()), "rms_norm: input must be floating, got ", dtype_name(input.dtype()));
  // eps defaults to the dtype's machine epsilon, as torch.nn.functional.rms_norm.
  const double e = eps.value_or(input.dtype() == kFloat32 ? 1.1920928955078125e-07 : 2.220446049250313e-16);
  Shape dims;
  for (int64_t d = input.dim() - k; d < input.dim(); ++d) dims.push_back(d);
  const Tensor y = input * rsqrt(mean(input * input, dims, true) + e);
  return weight.defined() ? y * weight : y;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  // Shapes, dtypes, eps and the per-channel count are checked by the row's forward (which loaded
  // graphs call directly).
  TG_CHECK(!running_mean.requires_grad() && !running_var.requires_grad(),
           "batch_norm: running statistics must not require grad");
  return apply_op(kBatchNorm, {x, running_mean, running_var, weight, bias},
                  {{"training", training}, {"momentum", momentum}, {"eps", eps}});
}

}  // namespace tg
