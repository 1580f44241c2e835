// tapegrad/examples/char_gpt_model.cc: see char_gpt_model.h.
#include "examples/char_gpt_model.h"

#include <algorithm>
#include <cmath>

namespace tg::examples {

CharGptBlock::CharGptBlock(const CharGptOptions& o) : Module("CharGptBlock"), heads_(o.heads) {
  ln1_ = register_module("ln1", std::make_shared<nn::LayerNorm>(IntArrayRef{o.d_model}));
  qkv_ = register_module("qkv", std::make_shared<nn::Linear>(o.d_model, 3 * o.d_model));
  proj_ = register_module("proj", std::make_shared<nn::Linear>(o.d_model, o.d_model));
  ln2_ = register_module("ln2", std::make_shared<nn::LayerNorm>(IntArrayRef{o.d_model}));
  fc1_ = register_module("fc1", std::make_shared<nn::Linear>(o.d_model, o.mlp));
  fc2_ = register_module("fc2", std::make_shared<nn::Linear>(o.mlp, o.d_model));
}

Tensor CharGptBlock::forward(const Tensor& x, Tensor* key, Tensor* value) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads_;
  // [B, T, 3d] -> [3, B, H, T, hd]
  const Tensor qkv = permute(reshape((*qkv_)((*ln1_)(x)), {b, t, 3, heads_, hd}), {2, 0, 3, 1, 4});
  const Tensor q = select(qkv, 0, 0);
  Tensor k = select(qkv, 0, 1), v = select(qkv, 0, 2);
  const bool cached = key != nullptr && key->defined();
  if (key != nullptr) {
    if (cached) {
      k = cat({*key, k}, 2);
      v = cat({*value, v}, 2);
    }
    *key = k;
    *value = v;
  }
  // A step after the cached prefix sees every earlier position: no mask. Otherwise causal.
  const Tensor a = scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/!cached);
  const Tensor h = x + (*proj_)(reshape(transpose(a, 1, 2), {b, t, d}));
  return h + (*fc2_)(gelu((*fc1_)((*ln2_)(h))));
}

CharGpt::CharGpt(CharGptOptions o) : Module("CharGpt"), options(o) {
  token_embedding_ = register_module("token_embedding", std::make_shared<nn::Embedding>(o.vocab_size, o.d_model));
  position_embedding_ = register_module("position_embedding", std::make_shared<nn::Embedding>(o.context, o.d_model));
  for (int64_t i = 0; i < o.layers; ++i)
    blocks_.push_back(register_module("block" + std::to_string(i), std::make_shared<CharGptBlock>(o)));
  ln_f_ = register_module("ln_f", std::make_shared<nn::LayerNorm>(IntArrayRef{o.d_model}));
  head_ = register_module("head", std::make_shared<nn::Linear>(o.d_model, o.vocab_size));
}

Tensor CharGpt::forward(const Tensor& tokens, KVCache* cache, int64_t start) {
  const int64_t t = tokens.size(1);
  TG_CHECK(start + t <= options.context, "CharGpt: positions ", start, "..", start + t - 1, " exceed the context ",
           options.context);
  Tensor x = (*token_embedding_)(tokens) + (*position_embedding_)(arange(start, start + t));
  if (cache != nullptr) {
    cache->keys.resize(blocks_.size());
    cache->values.resize(blocks_.size());
  }
  for (size_t i = 0; i < blocks_.size(); ++i)
    x = cache ? blocks_[i]->forward(x, &cache->keys[i], &cache->values[i]) : (*blocks_[i])(x);
  return (*head_)((*ln_f_)(x));
}

std::vector<int64_t> CharGpt::generate(const std::vector<int64_t>& prompt, int64_t n, bool use_cache,
                                       const SamplingOptions& sampling) {
  TG_CHECK(!prompt.empty(), "CharGpt::generate: empty prompt");
  TG_CHECK(sampling.temperature >= 0 && sampling.top_k >= 0, "CharGpt::generate: temperature ", sampling.temperature,
           " and top_k ", sampling.top_k, " must not be negative");
  InferenceMode inference;
  std::vector<int64_t> seq = prompt;
  auto last_token = [&](const Tensor& logits) {
    Tensor last = select(logits, 1, logits.size(1) - 1).reshape({-1});
    if (sampling.temperature == 0) return argmax(last, -1).item<int64_t>();
    last = last / sampling.temperature;
    if (sampling.top_k > 0 && sampling.top_k < last.size(0)) {
      const Tensor kth = std::get<0>(topk(last, sampling.top_k)).narrow(0, sampling.top_k - 1, 1);
      last = masked_fill(last, last < kth, -INFINITY);
    }
    return multinomial(softmax(last, 0), 1).item<int64_t>();
  };
  auto window = [&](int64_t length) {
    const int64_t from = static_cast<int64_t>(seq.size()) - length;
    return tensor(std::vector<int64_t>(seq.begin() + from, seq.end()), {1, length}, kInt64);
  };
  KVCache cache;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t size = static_cast<int64_t>(seq.size());
    Tensor logits;
    if (!use_cache) {
      logits = forward(window(std::min(size, options.context)), nullptr);
    } else if (cache.length() == 0 || cache.length() == options.context) {
      // Fill from the prompt, or, once the window is full, refill from its last half.
      const int64_t length = std::min(size, cache.length() == 0 ? options.context : options.context / 2);
      cache = KVCache();
      logits = forward(window(length), &cache);
    } else {
      logits = forward(window(1), &cache, cache.length());
    }
    seq.push_back(last_token(logits));
  }
  return {seq.begin() + static_cast<int64_t>(prompt.size()), seq.end()};
}

}  // namespace tg::examples
