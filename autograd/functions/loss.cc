// tapegrad/autograd/functions/loss.cc: the classification losses and mse_loss, composed from op
// rows (so their gradients, and second derivatives, come from the rows): cross_entropy and
// nll_loss (class weights, [N, C, d1, ...] inputs, class-probability targets, label smoothing,
// ignore_index); and the rows of binary_cross_entropy (PyTorch's clamped logs and backward) and
// binary_cross_entropy_with_logits (weight, pos_weight), whose stable formula has kinks its true
// gradient does not.
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
    case Reduction::kBatchMean: return losses.dim() == 0 ? losses : sum(losses) / static_cast<double>(losses.size(0));
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

// Scores [N, C] or [N, C, d1, ...] as [M, C] rows (the class dim last); [C] is one row.
Tensor class_rows(const Tensor& scores) {
  if (scores.dim() <= 2) return scores.dim() == 1 ? unsqueeze(scores, 0) : scores;
  Shape order{0};
  for (int64_t d = 2; d < scores.dim(); ++d) order.push_back(d);
  order.push_back(1);
  return reshape(permute(scores, order), {-1, scores.size(1)});
}

// The shape a reduction-none loss takes: the scores' without the class dim.
Shape per_sample_shape(const Tensor& scores) {
  if (scores.dim() == 1) return {};
  Shape s = scores.shape();
  s.erase(s.begin() + 1);
  return s;
}

// Class-index targets checked: safe indices [M] (ignored entries set to 0), each row's weight
// (the class weight of its target, 0 where ignored) and 0/1 for kept rows.
struct Targets {
  Tensor safe, weight, kept;
};
Targets checked_targets(const char* op, const Tensor& scores, const Tensor& target, const Tensor& weight,
                        int64_t ignore_index) {
  TG_CHECK(scores.dim() >= 1, op, ": input must be [N, C], [N, C, d1, ...] or [C], got ", shape_str(scores.shape()));
  TG_CHECK(target.dtype() == kInt64, op, ": target must hold int64 class indices (or be class probabilities of the "
           "input's shape and dtype), got ", dtype_name(target.dtype()), " ", shape_str(target.shape()));
  TG_CHECK(target.shape() == per_sample_shape(scores), op, ": target ", shape_str(target.shape()), " does not match input ",
           shape_str(scores.shape()), " (expected ", shape_str(per_sample_shape(scores)), ")");
  const int64_t classes = scores.size(scores.dim() == 1 ? 0 : 1);
  const ops::Array t = target.data().contiguous();
  std::vector<double> w(classes, 1.0);
  if (weight.defined()) w = weight.to_vector<double>();
  ops::Array safe = ops::Array::empty({t.numel()}, kInt64);
  ops::Array row_weight = ops::Array::empty({t.numel()}, scores.dtype()), kept = ops::Array::empty({t.numel()}, scores.dtype());
  dispatch_floating(scores.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t v = t.data<int64_t>()[i];
      const bool ignored = v == ignore_index;
      TG_CHECK(ignored || (v >= 0 && v < classes), op, ": target ", v, " at position ", i,
               " is out of range for ", classes, " classes");
      safe.data<int64_t>()[i] = ignored ? 0 : v;
      row_weight.data<T>()[i] = ignored ? T(0) : static_cast<T>(w[v]);
      kept.data<T>()[i] = ignored ? T(0) : T(1);
    }
  });
  return {constant(safe), constant(row_weight), constant(kept)};
}

void check_class_weight(const char* op, const Tensor& scores, const Tensor& weight) {
  if (!weight.defined()) return;
  TG_CHECK(!weight.requires_grad(), op, ": the class weight must not require grad (its gradient is not computed, as in PyTorch)");
  const int64_t classes = scores.size(scores.dim() == 1 ? 0 : 1);
  TG_CHECK(weight.shape() == Shape{classes} && weight.dtype() == scores.dtype(), op, ": weight ",
           shape_str(weight.shape()), " ", dtype_name(weight.dtype()), " should be [", classes, "] ",
           dtype_name(scores.dtype()), " (one per class)");
}

// Weighted mean over the non-ignored entries (sum of losses / sum of their weights), as PyTorch
// does for nll_loss / cross_entropy; none keeps the per-sample shape.
Tensor reduce_weighted(const Tensor& losses, const Tensor& weights, Reduction reduction, const Shape& shape) {
  if (reduction == Reduction::kMean) return sum(losses) / sum(weights);
  if (reduction == Reduction::kNone) return reshape(losses, shape);
  return reduce(losses, reduction);
}

// -(weighted) log-likelihood of class-index targets over log_probs, with label smoothing as
// PyTorch defines it: (1 - e) * nll + e / C * smooth, smooth = -sum_c w_c log p_c per kept row,
// whose mean divides by the targets' weights (the kept rows' count without a class weight).
Tensor nll_rows(const char* op, const Tensor& log_probs_in, const Tensor& target, const Tensor& weight,
                Reduction reduction, double label_smoothing, int64_t ignore_index) {
  check_class_weight(op, log_probs_in, weight);
  const Targets t = checked_targets(op, log_probs_in, target, weight, ignore_index);
  const Tensor log_probs = class_rows(log_probs_in);
  const Shape shape = per_sample_shape(log_probs_in);
  const Tensor nll = reduce_weighted(-(reshape(gather(log_probs, 1, unsqueeze(t.safe, 1)), {-1}) * t.weight), t.weight,
                                     reduction, shape);
  if (label_smoothing == 0.0) return nll;
  const Tensor smooth_rows = -sum(weight.defined() ? log_probs * weight : log_probs, {1}) * t.kept;
  Tensor smooth;
  if (reduction == Reduction::kMean) {
    smooth = sum(smooth_rows) / sum(weight.defined() ? t.weight : t.kept);
  } else {
    smooth = reduction == Reduction::kNone ? reshape(smooth_rows, shape) : reduce(smooth_rows, reduction);
  }
  return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / static_cast<double>(log_probs.size(1)));
}

// Class-probability targets (the input's shape): -sum_c w_c t_c log p_c per sample; the mean
// divides by the number of samples.
Tensor soft_target_rows(const Tensor& log_probs_in, const Tensor& target_in, const Tensor& weight, Reduction reduction,
                        double label_smoothing) {
  check_class_weight("cross_entropy", log_probs_in, weight);
  const Tensor log_probs = class_rows(log_probs_in);
  Tensor target = class_rows(target_in);
  if (label_smoothing > 0.0) target = target * (1.0 - label_smoothing) + label_smoothing / static_cast<double>(log_probs.size(1));
  const Tensor terms = weight.defined() ? log_probs * target * weight : log_probs * target;
  const Tensor losses = -sum(terms, {1});
  if (reduction == Reduction::kNone) return reshape(losses, per_sample_shape(log_probs_in));
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

// -(t log x + (1 - t) log(1 - x)) with both logs clamped at -100, as PyTorch; its backward is
// PyTorch's too: d/dx = (x - t) / max(x (1 - x), 1e-12), d/dt = log(1 - x) - log(x) (clamped),
// not the zero slope a composition through the clamps would give at x = 0 or 1.
ops::Array bce_forward(ForwardContext& c) {
  const ops::Array x = c.in(0).contiguous(), t = c.in(1).contiguous();
  ops::Array out = ops::Array::empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "binary_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* tp = t.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      TG_CHECK(xp[i] >= 0 && xp[i] <= 1, "binary_cross_entropy: input ", xp[i], " at ", i,
               " is not a probability in [0, 1] (use binary_cross_entropy_with_logits for logits)");
      const T log_x = std::max(std::log(xp[i]), T(-100)), log_1mx = std::max(std::log1p(-xp[i]), T(-100));
      out.data<T>()[i] = -(tp[i] * log_x + (1 - tp[i]) * log_1mx);
    }
  });
  return out;
}

const OpDef& kBce = define_op({
    .name = "binary_cross_entropy",
    .forward = bce_forward,
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor x = c.input(0), t = c.input(1);
      return {internal::if_needed(c, 0, [&] { return c.grad * (x - t) / clamp(x * (1.0 - x), 1e-12, std::nullopt); }),
              internal::if_needed(c, 1, [&] {
                return c.grad * (clamp(log1p(-x), -100.0, std::nullopt) - clamp(log(x), -100.0, std::nullopt));
              })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .not_onnx = "a training loss: ONNX (opset 13) has no binary cross-entropy operator",
});

Tensor times_weight(const Tensor& losses, const Tensor& weight, const char* op) {
  if (!weight.defined()) return losses;
  TG_CHECK(ops::broadcast_shapes(weight.shape(), losses.shape(), op) == losses.shape(), op, ": weight ",
           shape_str(weight.shape()), " does not broadcast to the input ", shape_str(losses.shape()));
  return losses * weight;
}

}  // namespace


Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  check_same_shape("binary_cross_entropy", input, target);
  TG_CHECK(is_floating(input.dtype()), "binary_cross_entropy: expected floating tensors, got ", dtype_name(input.dtype()));
  return reduce(times_weight(apply_op(kBce, {input, target}), weight, "binary_cross_entropy"), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, Reduction reduction,
                int64_t ignore_index) {
  TG_CHECK(log_probs.defined() && target.defined(), "nll_loss: input and target must be defined");
  return nll_rows("nll_loss", log_probs, target, weight, reduction, 0.0, ignore_index);
}
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction, int64_t ignore_index) {
  return nll_loss(log_probs, target, Tensor(), reduction, ignore_index);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight, Reduction reduction,
                     double label_smoothing, int64_t ignore_index) {
  TG_CHECK(logits.defined() && target.defined(), "cross_entropy: input and target must be defined");
  TG_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got ",
           label_smoothing);
  TG_CHECK(is_floating(logits.dtype()), "cross_entropy: input must be floating, got ", dtype_name(logits.dtype()));
  const Tensor log_probs = log_softmax(logits, logits.dim() == 1 ? 0 : 1);
  if (is_floating(target.dtype())) {
    TG_CHECK(target.shape() == logits.shape() && target.dtype() == logits.dtype(), "cross_entropy: target ",
             shape_str(target.shape()), " ", dtype_name(target.dtype()), " is neither int64 class indices nor class "
             "probabilities of the input's shape and dtype ", shape_str(logits.shape()), " ", dtype_name(logits.dtype()));
    return soft_target_rows(log_probs, target, weight, reduction, label_smoothing);
  }
  return nll_rows("cross_entropy", log_probs, target, weight, reduction, label_smoothing, ignore_index);
}
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, double label_smoothing,
                     int64_t ignore_index) {
  return cross_entropy(logits, target, Tensor(), reduction, label_smoothing, ignore_index);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("mse_loss", input, target);
  const Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  check_same_shape("binary_cross_entropy_with_logits", logits, target);
  TG_CHECK(is_floating(logits.dtype()), "binary_cross_entropy_with_logits: expected floating tensors, got ",
           dtype_name(logits.dtype()));
  Tensor losses = apply_op(kBceWithLogits, {logits, target});
  if (pos_weight.defined()) {
    // -(p t log s(x) + (1 - t) log(1 - s(x))) = the unweighted loss + (p - 1) t softplus(-x).
    TG_CHECK(ops::broadcast_shapes(pos_weight.shape(), logits.shape(), "binary_cross_entropy_with_logits") == logits.shape(),
             "binary_cross_entropy_with_logits: pos_weight ", shape_str(pos_weight.shape()),
             " does not broadcast to the input ", shape_str(logits.shape()));
    losses = losses + (pos_weight - 1.0) * target * softplus(-logits);
  }
  return reduce(times_weight(losses, weight, "binary_cross_entropy_with_logits"), reduction);
}
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  return binary_cross_entropy_with_logits(logits, target, Tensor(), Tensor(), reduction);
}

// ---- regression ----

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("l1_loss", input, target);
  return reduce(abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  check_same_shape("smooth_l1_loss", input, target);
  TG_CHECK(beta >= 0, "smooth_l1_loss: beta must be non-negative, got ", beta);
  const Tensor diff = input - target;
  // With beta = 0 it is |d|, but PyTorch's kernel takes the d <= -beta side at d = 0 (slope -1).
  if (beta == 0) return reduce(where(diff <= 0, -diff, diff), reduction);
  const Tensor d = abs(diff);
  return reduce(where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  check_same_shape("huber_loss", input, target);
  TG_CHECK(delta > 0, "huber_loss: delta must be positive, got ", delta);
  const Tensor d = abs(input - target);
  return reduce(where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta), reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  check_same_shape("kl_div", input, target);
  // target (log target - input); with a probability target, 0 log 0 is 0 (xlogy).
  const Tensor pointwise = log_target ? exp(target) * (target - input)
                                      : where(target > 0, target * log(where(target > 0, target, 1.0)), 0.0) - target * input;
  return reduce(pointwise, reduction);
}

// ---- ranking and embeddings ----

namespace {
void check_signs(const char* op, const Tensor& target, const Shape& shape) {
  TG_CHECK(target.defined() && target.shape() == shape, op, ": target ", target.defined() ? shape_str(target.shape()) : "undefined",
           " should be ", shape_str(shape));
  for (double v : target.to_vector<double>()) TG_CHECK(v == 1 || v == -1, op, ": target must be 1 or -1, got ", v);
}
}  // namespace

Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin,
                           Reduction reduction) {
  check_same_shape("margin_ranking_loss", input1, input2);
  check_signs("margin_ranking_loss", target, input1.shape());
  return reduce(relu(-internal::as_dtype(target, input1.dtype()) * (input1 - input2) + margin), reduction);
}

Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative, double margin,
                           double p, double eps, bool swap, Reduction reduction) {
  check_same_shape("triplet_margin_loss", anchor, positive);
  check_same_shape("triplet_margin_loss", anchor, negative);
  TG_CHECK(margin > 0, "triplet_margin_loss: margin must be positive, got ", margin);
  const Tensor d_pos = pairwise_distance(anchor, positive, p, eps);
  Tensor d_neg = pairwise_distance(anchor, negative, p, eps);
  if (swap) d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps));
  return reduce(relu(d_pos - d_neg + margin), reduction);
}

Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin,
                             Reduction reduction) {
  check_same_shape("cosine_embedding_loss", input1, input2);
  TG_CHECK(input1.dim() == 1 || input1.dim() == 2, "cosine_embedding_loss: inputs must be [N, D] or [D], got ",
           shape_str(input1.shape()));
  const Tensor cos = cosine_similarity(input1, input2, -1, 1e-12);  // PyTorch's EPSILON here
  check_signs("cosine_embedding_loss", target, cos.shape());
  return reduce(where(target > 0, 1.0 - cos, relu(cos - margin)), reduction);
}

// ---- distances ----

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  TG_CHECK(x1.defined() && x2.defined(), "cosine_similarity: undefined input");
  const Tensor w12 = sum(x1 * x2, dim), w1 = sum(x1 * x1, dim), w2 = sum(x2 * x2, dim);
  return w12 / sqrt(clamp(w1 * w2, eps * eps, std::nullopt));
}

Tensor pairwise_distance(const Tensor& x1, const Tensor& x2, double p, double eps, bool keepdim) {
  TG_CHECK(x1.defined() && x2.defined(), "pairwise_distance: undefined input");
  const Tensor d = x1 - x2 + eps;
  return norm(d, p, d.dim() == 0 ? Shape{} : Shape{-1}, keepdim);
}

}  // namespace tg
