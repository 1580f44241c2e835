// tapegrad/nn/transformer.cc: the transformer encoder layer and stack.
#include "nn/transformer.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/indexing.h"

namespace tg::nn {

TransformerEncoderLayer::TransformerEncoderLayer(TransformerEncoderLayerOptions o)
    : Module("TransformerEncoderLayer"), options(o) {
  TG_CHECK(o.activation == "relu" || o.activation == "gelu", "TransformerEncoderLayer: activation must be relu or gelu, got '",
           o.activation, "'");
  TG_CHECK(o.dim_feedforward > 0, "TransformerEncoderLayer: dim_feedforward must be positive, got ", o.dim_feedforward);
  // Registration order as PyTorch's __init__ (it is the state dict's order too).
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(MultiheadAttentionOptions{
                                               o.d_model, o.nhead, o.dropout, true, o.batch_first, o.dtype}));
  linear1 = register_module("linear1", std::make_shared<Linear>(LinearOptions{o.d_model, o.dim_feedforward, true, o.dtype}));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(LinearOptions{o.dim_feedforward, o.d_model, true, o.dtype}));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(LayerNormOptions{{o.d_model}, o.layer_norm_eps, true, o.dtype}));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(LayerNormOptions{{o.d_model}, o.layer_norm_eps, true, o.dtype}));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::self_attention_block(const Tensor& x, const Tensor& mask, const Tensor& key_padding_mask) {
  return (*dropout1)(std::get<0>(self_attn->forward(x, x, x, key_padding_mask, /*need_weights=*/false, mask)));
}

Tensor TransformerEncoderLayer::feed_forward_block(const Tensor& x) {
  const Tensor hidden = (*linear1)(x);
  return (*dropout2)((*linear2)((*dropout)(options.activation == "gelu" ? gelu(hidden) : relu(hidden))));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask) {
  Tensor x = src;
  if (options.norm_first) {
    x = x + self_attention_block((*norm1)(x), src_mask, src_key_padding_mask);
    return x + feed_forward_block((*norm2)(x));
  }
  x = (*norm1)(x + self_attention_block(x, src_mask, src_key_padding_mask));
  return (*norm2)(x + feed_forward_block(x));
}

std::string TransformerEncoderLayer::extra_repr() const {
  return absl::StrCat("d_model=", options.d_model, ", nhead=", options.nhead, ", dim_feedforward=", options.dim_feedforward,
                      ", activation=", options.activation, ", norm_first=", options.norm_first ? "true" : "false");
}

TransformerEncoder::TransformerEncoder(TransformerEncoderOptions o) : Module("TransformerEncoder"), options(o) {
  TG_CHECK(o.num_layers > 0, "TransformerEncoder: num_layers must be positive, got ", o.num_layers);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    auto layer = std::make_shared<TransformerEncoderLayer>(o.layer);
    if (i > 0) layer->load_state_dict(layers->at<TransformerEncoderLayer>(0)->state_dict());  // copies, as deepcopy
    layers->push_back(layer);
  }
  if (o.final_norm) {
    norm = register_module("norm", std::make_shared<LayerNorm>(LayerNormOptions{{o.layer.d_model}, o.layer.layer_norm_eps, true, o.layer.dtype}));
  }
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask) {
  Tensor x = src;
  for (const auto& layer : *layers) x = std::static_pointer_cast<TransformerEncoderLayer>(layer)->forward(x, mask, src_key_padding_mask);
  return norm ? (*norm)(x) : x;
}

Tensor generate_square_subsequent_mask(int64_t size, DType dtype) {
  TG_CHECK(size >= 0, "generate_square_subsequent_mask: size must be non-negative, got ", size);
  return masked_fill(zeros({size, size}, dtype), logical_not(tril(ones({size, size}, kBool))),
                     -std::numeric_limits<double>::infinity());
}

}  // namespace tg::nn
