// tapegrad/autograd/functions/ctc_loss.cc: the ctc_loss row (inputs log_probs [T, N, C], targets,
// input_lengths [N], target_lengths [N]; output the per-sample negative log likelihood [N]) and
// tg::ctc_loss with PyTorch's reductions ("mean" divides each loss by its target length first).
// The recursions are ops/ctc_loss (Note [CTC recursions]); the gradient is differentiable once.
#include <cmath>

#include "autograd/functions/common.h"
#include "ops/ctc_loss.h"

namespace tg {

using internal::constant;

namespace {

std::vector<int64_t> lengths(const ops::Array& a, const char* what) {
  TG_CHECK(a.dtype() == kInt64 && a.dim() == 1, "ctc_loss: ", what, " must be a 1-d int64 tensor, got ",
           dtype_name(a.dtype()), " ", shape_str(a.shape()));
  const ops::Array c = a.contiguous();
  return std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel());
}

ops::CtcInputs ctc_inputs(const std::vector<ops::Array>& in, const Attrs& attrs) {
  return {in[0], in[1], lengths(in[2], "input_lengths"), lengths(in[3], "target_lengths"), attrs.i("blank")};
}

const OpDef& kCtcLoss = define_op({
    .name = "ctc_loss",
    .forward = [](ForwardContext& c) {
      ops::CtcForward f = ops::ctc_loss_forward(ctc_inputs(c.inputs, c.attrs));
      ops::Array out = f.nll;
      if (c.attrs.b("zero_infinity")) {
        out = out.contiguous().clone();
        dispatch_floating(out.dtype(), "ctc_loss", [&](auto tag) {
          using T = decltype(tag);
          for (int64_t i = 0; i < out.numel(); ++i)
            if (std::isinf(out.data<T>()[i])) out.data<T>()[i] = T(0);
        });
      }
      c.extras.push_back(f.log_alpha);
      c.extras.push_back(f.nll);
      return out;
    },
    .backward = [](BackwardContext& c) -> Grads {
      const std::vector<ops::Array> in{c.input(0).data(), c.input(1).data(), c.input(2).data(), c.input(3).data()};
      const ops::CtcForward f{c.extra_array(1), c.extra_array(0)};
      const ops::Array g = ops::ctc_loss_backward(ctc_inputs(in, c.attrs()), c.grad.data(), f, c.attrs().b("zero_infinity"));
      return {constant(g), Tensor(), Tensor(), Tensor()};
    },
    .save_inputs = {0, 1, 2, 3},
    .double_differentiable = false,
    .min_inputs = 4,
    .max_inputs = 4,
    .attr_schema = {{"blank", AttrType::kInt}, {"zero_infinity", AttrType::kBool}},
    .not_onnx = "a training loss: ONNX has no CTC loss operator",
});

}  // namespace

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank, Reduction reduction, bool zero_infinity) {
  TG_CHECK(log_probs.defined() && targets.defined() && input_lengths.defined() && target_lengths.defined(),
           "ctc_loss: log_probs, targets, input_lengths and target_lengths must be defined");
  TG_CHECK(log_probs.dim() == 2 || log_probs.dim() == 3, "ctc_loss: log_probs must be [T, N, C] or unbatched [T, C], got ",
           shape_str(log_probs.shape()));
  if (log_probs.dim() == 2) {  // unbatched: targets [S], lengths scalars or [1]
    return ctc_loss(unsqueeze(log_probs, 1), unsqueeze(targets, 0), reshape(input_lengths, {1}),
                    reshape(target_lengths, {1}), blank, reduction == Reduction::kNone ? Reduction::kSum : reduction,
                    zero_infinity);
  }
  const Tensor losses = apply_op(kCtcLoss, {log_probs, targets, input_lengths, target_lengths},
                                 {{"blank", blank}, {"zero_infinity", zero_infinity}});
  switch (reduction) {
    case Reduction::kNone: return losses;
    case Reduction::kSum: return sum(losses);
    case Reduction::kMean: return mean(losses / clamp(to_dtype(target_lengths, losses.dtype()), 1.0, std::nullopt));
    case Reduction::kBatchMean: break;
  }
  TG_CHECK(false, "ctc_loss: reduction must be none, mean or sum (batchmean is kl_div's)");
  return {};
}

}  // namespace tg
