// tapegrad/io/onnx_convert_loss.cc: ONNX's training losses, NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss ([N, C] or [N, C, d1, ...] scores, class weights, ignore_index,
// reduction none/sum/mean), on tapegrad's nll_loss.
#include <limits>

#include "autograd/functions.h"
#include "io/onnx_converters.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

Reduction reduction_of(C& c) {
  const std::string r = c.s("reduction", "mean");
  if (r == "none") return Reduction::kNone;
  if (r == "sum") return Reduction::kSum;
  TG_CHECK(r == "mean", "reduction '", r, "' is not none, sum or mean");
  return Reduction::kMean;
}

// No ignore_index attribute: every target must be a class (no value can be ignored).
int64_t ignore_index_of(C& c) { return c.i("ignore_index", std::numeric_limits<int64_t>::min()); }

Tensor nll(C& c, const Tensor& log_probs) {
  const Tensor& target = c.in(1);
  if (c.has_in(2)) return nll_loss(log_probs, target, c.in(2), reduction_of(c), ignore_index_of(c));
  return nll_loss(log_probs, target, reduction_of(c), ignore_index_of(c));
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "NegativeLogLikelihoodLoss",
     .convert = [](C& c) -> Tensors { return {nll(c, c.in(0))}; },
     .min_inputs = 2, .max_inputs = 3, .constant_inputs = {1}},
    {.op_type = "SoftmaxCrossEntropyLoss",
     .convert = [](C& c) -> Tensors {
       const Tensor log_probs = log_softmax(c.in(0), 1);
       return {nll(c, log_probs), log_probs};
     },
     .min_inputs = 2, .max_inputs = 3, .max_outputs = 2, .constant_inputs = {1}},
});

}  // namespace

}  // namespace tg::io
