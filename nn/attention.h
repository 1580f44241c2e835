// tapegrad/nn/attention.h: MultiheadAttention as torch::nn::MultiheadAttention: packed input
// projection (in_proj_weight [3E, E], in_proj_bias [3E]), out_proj (Linear E -> E), the same
// parameter names and initialization, [L, N, E] inputs (or [N, L, E] with batch_first, or
// unbatched [L, E]), key_padding_mask [N, S] and attn_mask [L, S] or [N * num_heads, L, S]
// (bool: true = not attended; float: added to the scores).
//   nn::MultiheadAttention mha(nn::MultiheadAttentionOptions{64, 4, 0.0, true, /*batch_first=*/true});
//   auto [out, weights] = mha.forward(x, x, x);
#pragma once

#include <tuple>

#include "nn/linear.h"
#include "nn/module.h"

namespace tg::nn {

struct MultiheadAttentionOptions {
  int64_t embed_dim, num_heads;
  double dropout = 0.0;  // on the attention weights, when training
  bool bias = true;
  bool batch_first = false;
  DType dtype = kFloat32;
};

class MultiheadAttention : public Module {
 public:
  explicit MultiheadAttention(MultiheadAttentionOptions options);
  MultiheadAttention(int64_t embed_dim, int64_t num_heads) : MultiheadAttention(MultiheadAttentionOptions{embed_dim, num_heads}) {}
  // (output like query, attention weights [N, L, S] averaged over heads or [N, H, L, S]; undefined
  // when need_weights is false, which takes the fused attention row).
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = {}, bool need_weights = true,
                                     const Tensor& attn_mask = {}, bool average_attn_weights = true);
  // Self-attention without masks: forward(x, x, x, {}, false).
  Tensor forward(const Tensor& x) override;
  // in_proj_weight xavier_uniform, biases zero, out_proj.weight as Linear's.
  void reset_parameters();
  std::string extra_repr() const override;

  const MultiheadAttentionOptions options;
  Tensor in_proj_weight, in_proj_bias;
  std::shared_ptr<Linear> out_proj;
};

}  // namespace tg::nn
