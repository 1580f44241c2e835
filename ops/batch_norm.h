// tapegrad/ops/batch_norm.h: grad-free batch-norm kernels over [N, C, *] input: per-channel batch
// statistics and the normalize-scale-shift.
#pragma once

#include <utility>

#include "ops/array.h"

namespace tg::ops {

// (mean, biased variance) per channel, each [C], accumulated in double.
std::pair<Array, Array> batch_norm_stats(const Array& x);
// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight/bias may be undefined.
Array batch_norm_apply(const Array& x, const Array& mean, const Array& invstd, const Array& weight,
                       const Array& bias);

}  // namespace tg::ops
