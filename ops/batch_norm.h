// tapegrad/ops/batch_norm.h: grad-free batch-norm kernels over [N, C, *] input: per-channel batch
// statistics, the normalize-scale-shift, and the fused backward (two passes over the data instead
// of the composed formula's nine elementwise ops and two reductions).
#pragma once

#include <utility>

#include "ops/array.h"

namespace tg::ops {

// (mean, biased variance) per channel, each [C], accumulated in double.
std::pair<Array, Array> batch_norm_stats(const Array& x);
// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight/bias may be undefined.
Array batch_norm_apply(const Array& x, const Array& mean, const Array& invstd, const Array& weight,
                       const Array& bias);

struct BatchNormGrads {
  Array input, weight, bias;  // each undefined unless asked for
};
// The gradients of y = batch_norm(x) given dL/dy, per Note [batch_norm backward]
// (autograd/functions/norm.cc): mean and invstd [C] are the statistics the forward used (batch
// ones when `training`, running ones otherwise); weight [C] may be undefined (1).
BatchNormGrads batch_norm_backward(const Array& grad_out, const Array& x, const Array& mean, const Array& invstd,
                                   const Array& weight, bool training, bool need_input, bool need_weight,
                                   bool need_bias);

}  // namespace tg::ops
