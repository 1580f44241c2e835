// tapegrad/examples/mnist_models.h: the MNIST architectures of the tutorials (see README):
// cnn_small, cnn_wide, cnn_fc3, lenet5, each with its recipe (optimizer, lr, batch size).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/sequential.h"
#include "optim/optimizer.h"

namespace tg::examples {

struct Recipe {
  std::string optimizer;  // "adam" or "sgd"
  double lr;
  double momentum;  // sgd only
  int64_t batch_size;
  // Images (so every activation) in channels-last memory format: the convolutions skip their
  // layout reorders and max pooling keeps the format (Note [Channels last] in ops/array.cc).
  bool channels_last;
  // The images' format: the recipe's, or channels last as `channels_last` says when given (a flag).
  MemoryFormat image_format(std::optional<bool> channels_last_flag = std::nullopt) const {
    return channels_last_flag.value_or(channels_last) ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  }
};

struct Architecture {
  std::string name;
  Recipe recipe;
  std::shared_ptr<nn::Sequential> (*build)();
};

const std::vector<Architecture>& architectures();
// Throws tg::Error listing the known names.
const Architecture& find_architecture(const std::string& name);
std::unique_ptr<optim::Optimizer> make_optimizer(const Recipe& recipe, const std::vector<Tensor>& params, double lr,
                                                 double weight_decay = 0.0);

}  // namespace tg::examples
