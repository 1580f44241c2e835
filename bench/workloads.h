// tapegrad/bench/workloads.h: the three workloads of bench/workload_throughput and their data,
// built from tapegrad's public API the way a user would write them (bench/pytorch_workloads.py
// holds the same models in PyTorch):
//   char_gpt       decoder-only transformer over the bytes of Debian's fortunes (pre-LayerNorm
//                  blocks, fused causal attention, GELU MLP), with greedy generation through a
//                  per-layer key/value cache or the naive re-run of the whole context;
//   lstm_lm        Embedding -> 2-layer LSTM -> Linear over the same bytes;
//   resnet_fmnist  ResNet-8 on Fashion-MNIST.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "nn/nn.h"

namespace tg::bench {

// One key/value cache per block for generation: [1, H, t, head_dim] each, grown by one step per
// token.
struct KVCache {
  std::vector<Tensor> keys, values;
  int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
};

struct CharGptOptions {
  int64_t vocab_size, context = 128, d_model = 128, heads = 4, layers = 4, mlp = 512;
};

class CharGptBlock : public nn::Module {
 public:
  explicit CharGptBlock(const CharGptOptions& o);
  // x [B, T, d]; with a cache, the keys and values of earlier positions come from *key / *value
  // (undefined when empty), which are then extended by this call's.
  Tensor forward(const Tensor& x, Tensor* key, Tensor* value);
  Tensor forward(const Tensor& x) override { return forward(x, nullptr, nullptr); }

 private:
  const int64_t heads_;
  std::shared_ptr<nn::LayerNorm> ln1_, ln2_;
  std::shared_ptr<nn::Linear> qkv_, proj_, fc1_, fc2_;
};

class CharGpt : public nn::Module {
 public:
  explicit CharGpt(CharGptOptions o);
  // tokens [B, T] -> logits [B, T, V]; positions start at `start` (the cache's length).
  Tensor forward(const Tensor& tokens, KVCache* cache, int64_t start = 0);
  Tensor forward(const Tensor& tokens) override { return forward(tokens, nullptr); }
  // Greedy continuation of `prompt` (ids) by n tokens, batch 1. With the cache each step runs one
  // position; past the context it keeps the last context/2 tokens and refills the cache. The
  // naive loop re-runs the last `context` tokens every step (what the PyTorch side does).
  std::vector<int64_t> generate(const std::vector<int64_t>& prompt, int64_t n, bool use_cache);

  const CharGptOptions options;

 private:
  std::shared_ptr<nn::Embedding> token_embedding_, position_embedding_;
  std::vector<std::shared_ptr<CharGptBlock>> blocks_;
  std::shared_ptr<nn::LayerNorm> ln_f_;
  std::shared_ptr<nn::Linear> head_;
};

class LstmLm : public nn::Module {
 public:
  LstmLm(int64_t vocab_size, int64_t embedding = 128, int64_t hidden = 256, int64_t layers = 2);
  Tensor forward(const Tensor& tokens) override;  // [B, T] -> logits [B, T, V]

 private:
  std::shared_ptr<nn::Embedding> embedding_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

// ResNet-8: 3x3 conv 16 + BN + ReLU, basic blocks 16/32/64 at strides 1/2/2 (1x1 projection
// shortcuts where the shape changes), global average pooling, Linear to 10 classes.
std::shared_ptr<nn::Module> make_resnet8(int64_t in_channels = 1, int64_t classes = 10);

}  // namespace tg::bench
