// tapegrad/ops/attention.h: the grad-free scaled dot-product attention kernels over flattened
// batches: q [B, L, E], k [B, S, E], v [B, S, Ev] -> out [B, L, Ev], with an optional additive mask
// [B, L, S] and causal masking (row i attends to columns j <= i) computed from the indices, never
// stored. The forward keeps the attention probabilities P [B, L, S] for the backward.
#pragma once

#include "ops/array.h"

namespace tg::ops {

struct AttentionForward {
  Array out;    // [B, L, Ev]
  Array probs;  // [B, L, S]: softmax(scale * q k^T + mask), zero where causally masked
};
AttentionForward attention_forward(const Array& q, const Array& k, const Array& v, const Array& mask, bool causal,
                                   double scale);

struct AttentionGrads {
  Array dq, dk, dv;
  Array dscores;  // [B, L, S], the gradient of the pre-softmax scores (the mask's), if asked for
};
// From the output gradient [B, L, Ev] and the forward's probabilities.
AttentionGrads attention_backward(const Array& grad_out, const Array& q, const Array& k, const Array& v,
                                  const Array& probs, double scale, bool want_dscores);

}  // namespace tg::ops
