// tapegrad/autograd/functions/norm.cc: the batch_norm row (training with running statistics, eval).
// Inputs: x [N, C, *], running_mean [C], running_var [C], weight [C]?, bias [C]?.
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"

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
      const int64_t rank = x.dim();
      Shape dims{0};
      for (int64_t d = 2; d < rank; ++d) dims.push_back(d);
      const Tensor mean = per_channel(c.extra(0), rank), invstd = per_channel(c.extra(1), rank);
      const Tensor xhat = (x - mean) * invstd;
      const Tensor w = c.input_shape(3).empty() ? Tensor() : per_channel(c.input(3), rank);
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

}  // namespace


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
