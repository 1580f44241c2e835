// tapegrad/autograd/functions/loss.cc: losses composed from op rows (so their gradients, and
// second derivatives, come from the rows): cross_entropy, nll_loss, mse_loss; and the row of
// binary_cross_entropy_with_logits, whose stable formula has kinks its true gradient does not.
#include <algorithm>
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/elementwise.h"

namespace tg {

using internal::constant;

namespace {

Tensor reduce(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::kNone: return losses;
    case Reduction::kSum: return sum(losses);
    case Reduction::kMean: return mean(losses);
  }
  return losses;
}

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  TG_CHECK(input.defined() && target.defined(), op, ": input and target must be defined");
  TG_CHECK(input.shape() == target.shape(), op, ": input ", shape_str(input.shape()), " and target ",
           shape_str(target.shape()), " differ in shape");
  TG_CHECK(input.dtype() == target.dtype(), op, ": input is ", dtype_name(input.dtype()), ", target is ",
           dtype_name(target.dtype()));
}

// Validates class-index targets; returns (targets with ignored entries set to 0, 0/1 weights).
std::pair<Tensor, Tensor> checked_targets(const char* op, const Tensor& scores, const Tensor& target,
                                          int64_t ignore_index) {
  TG_CHECK(scores.dim() == 2, op, ": input must be [N, C] (or [C]), got ", shape_str(scores.shape()));
  TG_CHECK(target.dtype() == kInt64, op, ": target must hold int64 class indices, got ",
           dtype_name(target.dtype()));
  TG_CHECK(target.dim() == 1 && target.size(0) == scores.size(0), op, ": target ", shape_str(target.shape()),
           " does not match input ", shape_str(scores.shape()), " (expected [", scores.size(0), "])");
  const int64_t classes = scores.size(1);
  const ops::Array t = target.data().contiguous();
  ops::Array safe = ops::Array::empty(t.shape(), kInt64);
  ops::Array valid = ops::Array::empty(t.shape(), scores.dtype());
  dispatch_floating(scores.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t v = t.data<int64_t>()[i];
      const bool ignored = v == ignore_index;
      TG_CHECK(ignored || (v >= 0 && v < classes), op, ": target ", v, " at position ", i,
               " is out of range for ", classes, " classes");
      safe.data<int64_t>()[i] = ignored ? 0 : v;
      valid.data<T>()[i] = ignored ? T(0) : T(1);
    }
  });
  return {constant(safe), constant(valid)};
}

// Mean over the non-ignored entries, as PyTorch does for nll_loss / cross_entropy.
Tensor reduce_weighted(const Tensor& losses, const Tensor& weights, Reduction reduction) {
  if (reduction == Reduction::kMean) return sum(losses) / sum(weights);
  return reduce(losses, reduction);
}

// Elementwise max(x, 0) - x t + log1p(exp(-|x|)): never exponentiates a large positive number.
// Composed from relu and abs, autograd would take their slopes at x = 0 as 0 and give -t where
// the derivative is sigmoid(0) - t = 0.5 - t (every zero-initialised classifier head sits there),
// so the row has its own backward: d/dx = sigmoid(x) - t, d/dt = -x, written with differentiable
// ops (exact second derivatives).
ops::Array bce_with_logits_forward(ForwardContext& c) {
  const ops::Array x = c.in(0).contiguous(), t = c.in(1).contiguous();
  ops::Array out = ops::Array::empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "binary_cross_entropy_with_logits", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* tp = t.data<T>();
    T* op = out.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      op[i] = std::max(xp[i], T(0)) - xp[i] * tp[i] + std::log1p(std::exp(-std::abs(xp[i])));
    }
  });
  return out;
}

const OpDef& kBceWithLogits = define_op({
    .name = "binary_cross_entropy_with_logits",
    .forward = bce_with_logits_forward,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0), t = c.input(1);
      return {internal::if_needed(c, 0, [&] { return c.grad * (sigmoid(x) - t); }),
              internal::if_needed(c, 1, [&] { return c.grad * neg(x); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .not_onnx = "a training loss: ONNX (opset 13) has no binary cross-entropy operator",
});

}  // namespace


Tensor nll_loss(const Tensor& log_probs_in, const Tensor& target_in, Reduction reduction, int64_t ignore_index) {
  TG_CHECK(log_probs_in.defined() && target_in.defined(), "nll_loss: input and target must be defined");
  const bool single = log_probs_in.dim() == 1;
  const Tensor log_probs = single ? unsqueeze(log_probs_in, 0) : log_probs_in;
  const Tensor target = single ? reshape(target_in, {1}) : target_in;
  auto [safe, valid] = checked_targets("nll_loss", log_probs, target, ignore_index);
  const Tensor picked = reshape(gather(log_probs, 1, unsqueeze(safe, 1)), {-1});
  Tensor losses = -(picked * valid);
  if (single && reduction == Reduction::kNone) losses = reshape(losses, {});
  return reduce_weighted(losses, valid, reduction);
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& target_in, Reduction reduction,
                     double label_smoothing, int64_t ignore_index) {
  TG_CHECK(logits_in.defined() && target_in.defined(), "cross_entropy: input and target must be defined");
  TG_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got ",
           label_smoothing);
  const bool single = logits_in.dim() == 1;
  const Tensor logits = single ? unsqueeze(logits_in, 0) : logits_in;
  const Tensor target = single ? reshape(target_in, {1}) : target_in;
  auto [safe, valid] = checked_targets("cross_entropy", logits, target, ignore_index);
  const Tensor log_probs = log_softmax(logits, 1);
  Tensor losses = -(reshape(gather(log_probs, 1, unsqueeze(safe, 1)), {-1}) * valid);
  if (label_smoothing > 0.0) {
    // (1 - e) * nll + e * mean over classes of -log p  (PyTorch's definition).
    const double classes = static_cast<double>(logits.size(1));
    const Tensor smooth = -(sum(log_probs, {1}) * valid) / classes;
    losses = losses * (1.0 - label_smoothing) + smooth * label_smoothing;
  }
  if (single && reduction == Reduction::kNone) losses = reshape(losses, {});
  return reduce_weighted(losses, valid, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("mse_loss", input, target);
  const Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  check_same_shape("binary_cross_entropy_with_logits", logits, target);
  TG_CHECK(is_floating(logits.dtype()), "binary_cross_entropy_with_logits: expected floating tensors, got ",
           dtype_name(logits.dtype()));
  return reduce(apply_op(kBceWithLogits, {logits, target}), reduction);
}

}  // namespace tg
