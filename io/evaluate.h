// tapegrad/io/evaluate.h: classification accuracy of a module over every batch of a loader:
// eval mode, no recording, argmax over dim 1; the module's train/eval mode is restored.
#pragma once

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

}  // namespace tg::io
