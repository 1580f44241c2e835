// tapegrad/ops/layer_norm.h: the grad-free layer-norm kernel: every row of the trailing `inner`
// elements normalized to zero mean and unit variance, then scaled and shifted elementwise.
#pragma once

#include "ops/array.h"

namespace tg::ops {

struct LayerNormResult {
  Array y;     // x's shape
  Array mean;  // [rows], rows = numel / inner
  Array rstd;  // [rows], 1 / sqrt(biased variance + eps)
};
// weight and bias ([inner] elements, any shape) may be undefined. Statistics accumulate in double.
LayerNormResult layer_norm(const Array& x, int64_t inner, const Array& weight, const Array& bias, double eps);

}  // namespace tg::ops
