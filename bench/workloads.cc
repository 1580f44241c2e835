// tapegrad/bench/workloads.cc: see workloads.h.
#include "bench/workloads.h"

#include <algorithm>

namespace tg::bench {

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

std::vector<int64_t> CharGpt::generate(const std::vector<int64_t>& prompt, int64_t n, bool use_cache) {
  TG_CHECK(!prompt.empty(), "CharGpt::generate: empty prompt");
  InferenceMode inference;
  std::vector<int64_t> seq = prompt;
  auto last_token = [&](const Tensor& logits) {
    return argmax(select(logits, 1, logits.size(1) - 1), -1).item<int64_t>();
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

LstmLm::LstmLm(int64_t vocab_size, int64_t embedding, int64_t hidden, int64_t layers) : Module("LstmLm") {
  embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(vocab_size, embedding));
  lstm_ = register_module("lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions{
                                      .input_size = embedding, .hidden_size = hidden, .num_layers = layers, .batch_first = true}));
  head_ = register_module("head", std::make_shared<nn::Linear>(hidden, vocab_size));
}

Tensor LstmLm::forward(const Tensor& tokens) {
  return (*head_)(std::get<0>(lstm_->forward((*embedding_)(tokens), std::nullopt)));
}

namespace {

std::shared_ptr<nn::Sequential> sequential(std::initializer_list<std::shared_ptr<nn::Module>> modules) {
  return std::make_shared<nn::Sequential>(modules);
}

class BasicBlock : public nn::Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride) : Module("BasicBlock") {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(out));
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out));
    if (stride != 1 || in != out) {
      shortcut_ = register_module(
          "shortcut", sequential({std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                  std::make_shared<nn::BatchNorm2d>(out)}));
    }
  }
  Tensor forward(const Tensor& x) override {
    const Tensor y = (*bn2_)((*conv2_)(relu((*bn1_)((*conv1_)(x)))));
    return relu(y + (shortcut_ ? (*shortcut_)(x) : x));
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::Sequential> shortcut_;
};

}  // namespace

std::shared_ptr<nn::Module> make_resnet8(int64_t in_channels, int64_t classes) {
  return sequential({std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in_channels, 16, 3).padding(1).bias(false)),
                     std::make_shared<nn::BatchNorm2d>(16), std::make_shared<nn::ReLU>(),
                     std::make_shared<BasicBlock>(16, 16, 1), std::make_shared<BasicBlock>(16, 32, 2),
                     std::make_shared<BasicBlock>(32, 64, 2), std::make_shared<nn::AdaptiveAvgPool2d>(1),
                     std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(64, classes)});
}

}  // namespace tg::bench
