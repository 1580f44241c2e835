// tapegrad/examples/char_gpt_model.h: a nanoGPT-style decoder-only transformer over bytes
// (pre-LayerNorm blocks, fused causal attention, GELU MLP, learned positions) with generation
// through a per-layer key/value cache, greedy or sampled with temperature and top-k. Used by
// examples/char_gpt.cc and bench/workload_throughput (examples/pytorch/char_gpt.py and
// bench/pytorch_workload_throughput.py hold the same model in PyTorch).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "nn/nn.h"

namespace tg::examples {

// One key/value cache per block for generation: [1, H, t, head_dim] each, grown by one step per
// token.
struct KVCache {
  std::vector<Tensor> keys, values;
  int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
};

// temperature 0: greedy (argmax); otherwise softmax(logits / temperature) among the top_k likeliest
// tokens (0: all), drawn from the default generator (manual_seed).
struct SamplingOptions {
  double temperature = 0;
  int64_t top_k = 0;
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
  // Continuation of `prompt` (ids) by n tokens, batch 1, greedy or sampled (SamplingOptions).
  // With the cache each step runs one position; past the context it keeps the last context/2
  // tokens and refills the cache. The naive loop re-runs the last `context` tokens every step.
  std::vector<int64_t> generate(const std::vector<int64_t>& prompt, int64_t n, bool use_cache,
                                const SamplingOptions& sampling = {});

  const CharGptOptions options;

 private:
  std::shared_ptr<nn::Embedding> token_embedding_, position_embedding_;
  std::vector<std::shared_ptr<CharGptBlock>> blocks_;
  std::shared_ptr<nn::LayerNorm> ln_f_;
  std::shared_ptr<nn::Linear> head_;
};

}  // namespace tg::examples
