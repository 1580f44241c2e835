// tapegrad/io/evaluate.h: classification accuracy of a module over every batch of a loader:
// eval mode, no recording, argmax over dim 1; the module's train/eval mode is restored.
#pragma once

#include "io/data_loader.h"
#include "nn/module.h"

namespace tg::io {

double classification_accuracy(nn::Module& model, const DataLoader& loader);

}  // namespace tg::io
