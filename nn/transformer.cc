// tapegrad/nn/transformer.cc: the transformer encoder layer and stack.
#include "nn/transformer.h"


#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/indexing.h"

namespace tg::nn {

namespace {

void check_layer_options(const char* type_name, const TransformerEncoderLayerOptions& o) {
  TG_CHECK(o.activation == "relu" || o.activation == "gelu", type_name, ": activation must be relu or gelu, got '",
           o.activation, "'");
  TG_CHECK(o.dim_feedforward > 0, type_name, ": dim_feedforward must be positive, got ", o.dim_feedforward);
}

std::shared_ptr<MultiheadAttention> attention_of(const TransformerEncoderLayerOptions& o) {
  return std::make_shared<MultiheadAttention>(MultiheadAttentionOptions{o.d_model, o.nhead, o.dropout, true, o.batch_first, o.dtype});
}
std::shared_ptr<LayerNorm> norm_of(const TransformerEncoderLayerOptions& o) {
  return std::make_shared<LayerNorm>(LayerNormOptions{{o.d_model}, o.layer_norm_eps, true, o.dtype});
}

// linear2(dropout(activation(linear1(x)))): the feed-forward block of both layer kinds.
Tensor feed_forward(const Tensor& x, Linear& linear1, Dropout& dropout, Linear& linear2, const std::string& activation) {
  const Tensor hidden = linear1(x);
  return linear2(dropout(activation == "gelu" ? gelu(hidden) : relu(hidden)));
}

// num_layers layers made from options, all starting as copies of the first (as PyTorch's
// deepcopy of the layer it is given).
template <typename Layer>
std::shared_ptr<ModuleList> layer_copies(const TransformerEncoderLayerOptions& options, int64_t num_layers,
                                         const char* type_name) {
  TG_CHECK(num_layers > 0, type_name, ": num_layers must be positive, got ", num_layers);
  auto layers = std::make_shared<ModuleList>();
  for (int64_t i = 0; i < num_layers; ++i) {
    auto layer = std::make_shared<Layer>(options);
    if (i > 0) layer->load_state_dict(layers->template at<Layer>(0)->state_dict());
    layers->push_back(layer);
  }
  return layers;
}

std::string layer_repr(const TransformerEncoderLayerOptions& o) {
  return absl::StrCat("d_model=", o.d_model, ", nhead=", o.nhead, ", dim_feedforward=", o.dim_feedforward,
                      ", activation=", o.activation, ", norm_first=", o.norm_first ? "true" : "false");
}

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(TransformerEncoderLayerOptions o)
    : Module("TransformerEncoderLayer"), options(o) {
  check_layer_options("TransformerEncoderLayer", o);
  // Registration order as PyTorch's __init__ (it is the state dict's order too).
  self_attn = register_module("self_attn", attention_of(o));
  linear1 = register_module("linear1", std::make_shared<Linear>(LinearOptions{o.d_model, o.dim_feedforward, true, o.dtype}));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(LinearOptions{o.dim_feedforward, o.d_model, true, o.dtype}));
  norm1 = register_module("norm1", norm_of(o));
  norm2 = register_module("norm2", norm_of(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::self_attention_block(const Tensor& x, const Tensor& mask, const Tensor& key_padding_mask) {
  return (*dropout1)(std::get<0>(self_attn->forward(x, x, x, key_padding_mask, /*need_weights=*/false, mask)));
}

Tensor TransformerEncoderLayer::feed_forward_block(const Tensor& x) {
  return (*dropout2)(feed_forward(x, *linear1, *dropout, *linear2, options.activation));
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

std::string TransformerEncoderLayer::extra_repr() const { return layer_repr(options); }

TransformerEncoder::TransformerEncoder(TransformerEncoderOptions o) : Module("TransformerEncoder"), options(o) {
  layers = register_module("layers", layer_copies<TransformerEncoderLayer>(o.layer, o.num_layers, "TransformerEncoder"));
  if (o.final_norm) norm = register_module("norm", norm_of(o.layer));
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask) {
  Tensor x = src;
  for (const auto& layer : *layers) x = std::static_pointer_cast<TransformerEncoderLayer>(layer)->forward(x, mask, src_key_padding_mask);
  return norm ? (*norm)(x) : x;
}

TransformerDecoderLayer::TransformerDecoderLayer(TransformerEncoderLayerOptions o)
    : Module("TransformerDecoderLayer"), options(o) {
  check_layer_options("TransformerDecoderLayer", o);
  self_attn = register_module("self_attn", attention_of(o));
  multihead_attn = register_module("multihead_attn", attention_of(o));
  linear1 = register_module("linear1", std::make_shared<Linear>(LinearOptions{o.d_model, o.dim_feedforward, true, o.dtype}));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(LinearOptions{o.dim_feedforward, o.d_model, true, o.dtype}));
  norm1 = register_module("norm1", norm_of(o));
  norm2 = register_module("norm2", norm_of(o));
  norm3 = register_module("norm3", norm_of(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                        const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask) {
  auto self_block = [&](const Tensor& x) {
    return (*dropout1)(std::get<0>(self_attn->forward(x, x, x, tgt_key_padding_mask, false, tgt_mask)));
  };
  auto cross_block = [&](const Tensor& x) {
    return (*dropout2)(std::get<0>(multihead_attn->forward(x, memory, memory, memory_key_padding_mask, false, memory_mask)));
  };
  auto ff_block = [&](const Tensor& x) { return (*dropout3)(feed_forward(x, *linear1, *dropout, *linear2, options.activation)); };
  Tensor x = tgt;
  if (options.norm_first) {
    x = x + self_block((*norm1)(x));
    x = x + cross_block((*norm2)(x));
    return x + ff_block((*norm3)(x));
  }
  x = (*norm1)(x + self_block(x));
  x = (*norm2)(x + cross_block(x));
  return (*norm3)(x + ff_block(x));
}

std::string TransformerDecoderLayer::extra_repr() const { return layer_repr(options); }

TransformerDecoder::TransformerDecoder(TransformerDecoderOptions o) : Module("TransformerDecoder"), options(o) {
  layers = register_module("layers", layer_copies<TransformerDecoderLayer>(o.layer, o.num_layers, "TransformerDecoder"));
  if (o.final_norm) norm = register_module("norm", norm_of(o.layer));
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                   const Tensor& memory_key_padding_mask) {
  Tensor x = tgt;
  for (const auto& layer : *layers) {
    x = std::static_pointer_cast<TransformerDecoderLayer>(layer)->forward(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                                                                          memory_key_padding_mask);
  }
  return norm ? (*norm)(x) : x;
}

Tensor generate_square_subsequent_mask(int64_t size, DType dtype) {
  TG_CHECK(size >= 0, "generate_square_subsequent_mask: size must be non-negative, got ", size);
  return additive_mask(logical_not(tril(ones({size, size}, kBool))), dtype);
}

}  // namespace tg::nn
