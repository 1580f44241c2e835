// tapegrad/ops/ctc_loss.h: the connectionist temporal classification loss (Graves et al. 2006)
// as grad-free kernels: the forward (alpha) recursion giving each sample's negative log
// likelihood, and the backward (beta) recursion giving its gradient w.r.t. the log probabilities.
// Computed in log space in double whatever the input dtype.
//   log_probs [T, N, C]; targets [N, S] (padded) or [sum of target_lengths] (concatenated);
//   input_lengths[n] <= T, target_lengths[n] <= S; labels in [0, C) and not `blank`.
#pragma once

#include <vector>

#include "ops/array.h"

namespace tg::ops {

struct CtcInputs {
  Array log_probs, targets;  // as above; targets int64
  std::vector<int64_t> input_lengths, target_lengths;
  int64_t blank = 0;
};

// Validates every shape, length and label (naming "ctc_loss" and what is wrong).
void check_ctc_inputs(const CtcInputs& in);

struct CtcForward {
  Array nll;        // [N], log_probs' dtype: -log p(target | input); inf when no alignment exists
  Array log_alpha;  // [N, T, 2 S + 1] float64, kept for the backward
};
CtcForward ctc_loss_forward(const CtcInputs& in);

// d(sum_n grad_nll[n] nll[n]) / d log_probs, [T, N, C] (zero past each input length). With
// zero_infinity, samples whose nll is infinite get a zero gradient.
Array ctc_loss_backward(const CtcInputs& in, const Array& grad_nll, const CtcForward& forward, bool zero_infinity);

}  // namespace tg::ops
