// tapegrad/io/evaluate.h: how well a model does on held-out data, in eval mode without recording
// (the module's train/eval mode is restored): the classification accuracy over every batch of a
// loader (argmax over dim 1), and a next-token model's mean loss over a token sequence.
#pragma once

#include <vector>

#include "io/data_loader.h"
#include "nn/module.h"

namespace tg::io {

struct ClassificationCounts {
  int64_t correct = 0;
  int64_t total = 0;
};

// Correct predictions over every batch of the loader (a sharded loader counts its shard only, so
// data-parallel ranks add their counts).
ClassificationCounts count_correct(nn::Module& model, const DataLoader& loader);
// count_correct as a fraction (0 for an empty loader).
double classification_accuracy(nn::Module& model, const DataLoader& loader);

// Mean cross-entropy in nats per token of a next-token model (ids [B, T] -> logits [B, T, V]) over
// consecutive windows of `context` tokens of `tokens` (the first max_windows of them; 0: all),
// each predicting the tokens one ahead, in batches of 64 windows. Throws if `tokens` holds fewer
// than context + 1 tokens. Divide by log(2) for bits per token.
double next_token_loss(nn::Module& model, const std::vector<int64_t>& tokens, int64_t context,
                       int64_t max_windows = 0);

}  // namespace tg::io
