// tapegrad/nn/transformer.h: TransformerEncoderLayer and TransformerEncoder as torch::nn's:
// self-attention and a feed-forward block, each with dropout and a residual connection, LayerNorm
// after (post-norm, the default) or before (norm_first) each; parameter names as PyTorch's
// (self_attn.in_proj_weight, linear1.weight, norm1.weight, layers.0.self_attn...), so state dicts
// map one to one. TransformerEncoder stacks num_layers copies of one layer, identical at start
// (PyTorch deep-copies the layer it is given).
//   nn::TransformerEncoderLayerOptions layer{128, 4, 512, 0.1, "gelu", 1e-5, /*batch_first=*/true, /*norm_first=*/true};
//   nn::TransformerEncoder encoder(nn::TransformerEncoderOptions{layer, 4});
//   Tensor h = encoder.forward(x, causal_mask);
#pragma once

#include <string>

#include "nn/activation.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/sequential.h"

namespace tg::nn {

struct TransformerEncoderLayerOptions {
  int64_t d_model, nhead;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // or "gelu"
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
  DType dtype = kFloat32;
};

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(TransformerEncoderLayerOptions options);
  TransformerEncoderLayer(int64_t d_model, int64_t nhead) : TransformerEncoderLayer(TransformerEncoderLayerOptions{d_model, nhead}) {}
  // src [S, N, E] ([N, S, E] with batch_first, or [S, E]); masks as MultiheadAttention's.
  Tensor forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask = {});
  Tensor forward(const Tensor& src) override { return forward(src, {}, {}); }
  std::string extra_repr() const override;

  const TransformerEncoderLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;

 private:
  Tensor self_attention_block(const Tensor& x, const Tensor& mask, const Tensor& key_padding_mask);
  Tensor feed_forward_block(const Tensor& x);
};

struct TransformerEncoderOptions {
  TransformerEncoderLayerOptions layer;
  int64_t num_layers;
  bool final_norm = false;  // a LayerNorm ("norm") after the last layer
};

class TransformerEncoder : public Module {
 public:
  explicit TransformerEncoder(TransformerEncoderOptions options);
  Tensor forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask = {});
  Tensor forward(const Tensor& src) override { return forward(src, {}, {}); }

  const TransformerEncoderOptions options;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;  // undefined without final_norm
};

// A decoder layer: masked self-attention, attention over the encoder's output ("memory") and the
// feed-forward block, each with a residual and a LayerNorm (norm1..norm3), as PyTorch's.
class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(TransformerEncoderLayerOptions options);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {});
  std::string extra_repr() const override;

  const TransformerEncoderLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;
};

struct TransformerDecoderOptions {
  TransformerEncoderLayerOptions layer;  // the decoder layer takes the same options
  int64_t num_layers;
  bool final_norm = false;
};

class TransformerDecoder : public Module {
 public:
  explicit TransformerDecoder(TransformerDecoderOptions options);
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {});

  const TransformerDecoderOptions options;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

// The [size, size] additive causal mask (0 on and below the diagonal, -inf above), as
// nn.Transformer.generate_square_subsequent_mask.
Tensor generate_square_subsequent_mask(int64_t size, DType dtype = kFloat32);

}  // namespace tg::nn
