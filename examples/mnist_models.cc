// tapegrad/examples/mnist_models.cc: the architectures as nn::Sequential stacks.
#include "examples/mnist_models.h"

#include "absl/strings/str_join.h"
#include "nn/nn.h"
#include "optim/optim.h"

namespace tg::examples {

namespace {

using nn::Conv2d;
using nn::Conv2dOptions;
using nn::Flatten;
using nn::Linear;
using nn::MaxPool2d;
using nn::AvgPool2d;
using nn::ReLU;
using nn::Sequential;
using nn::Tanh;

template <typename M, typename... Args>
std::shared_ptr<nn::Module> make(Args&&... args) {
  return std::make_shared<M>(std::forward<Args>(args)...);
}

std::shared_ptr<Sequential> cnn_small() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<Conv2d>(Conv2dOptions(1, 16, 5).padding(2)), make<ReLU>(), make<MaxPool2d>(2),
      make<Conv2d>(Conv2dOptions(16, 32, 5).padding(2)), make<ReLU>(), make<MaxPool2d>(2), make<Flatten>(),
      make<Linear>(32 * 7 * 7, 10)});
}

std::shared_ptr<Sequential> cnn_wide() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<Conv2d>(Conv2dOptions(1, 32, 5).padding(2)), make<ReLU>(), make<MaxPool2d>(2),
      make<Conv2d>(Conv2dOptions(32, 64, 5).padding(2)), make<ReLU>(), make<MaxPool2d>(2), make<Flatten>(),
      make<Linear>(64 * 7 * 7, 1024), make<ReLU>(), make<Linear>(1024, 10)});
}

std::shared_ptr<Sequential> cnn_fc3() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<Conv2d>(Conv2dOptions(1, 32, 3).padding(1)), make<ReLU>(), make<MaxPool2d>(2),
      make<Conv2d>(Conv2dOptions(32, 64, 3).padding(1)), make<ReLU>(), make<MaxPool2d>(2), make<Flatten>(),
      make<Linear>(64 * 7 * 7, 1024), make<ReLU>(), make<Linear>(1024, 512), make<ReLU>(), make<Linear>(512, 10)});
}

std::shared_ptr<Sequential> lenet5() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<Conv2d>(Conv2dOptions(1, 6, 5).padding(2)), make<Tanh>(), make<AvgPool2d>(2),
      make<Conv2d>(Conv2dOptions(6, 16, 5)), make<Tanh>(), make<AvgPool2d>(2), make<Flatten>(),
      make<Linear>(16 * 5 * 5, 120), make<Tanh>(), make<Linear>(120, 84), make<Tanh>(), make<Linear>(84, 10)});
}

}  // namespace

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> all = {
      {"cnn_small", {"adam", 1e-3, 0.0, 50, true}, cnn_small},
      {"cnn_wide", {"adam", 1e-3, 0.0, 50, true}, cnn_wide},
      {"cnn_fc3", {"sgd", 1e-3, 0.9, 64, true}, cnn_fc3},
      {"lenet5", {"sgd", 0.05, 0.9, 64, false}, lenet5},  // average pooling has no channels-last kernel
  };
  return all;
}

const Architecture& find_architecture(const std::string& name) {
  std::vector<std::string> names;
  for (const Architecture& a : architectures()) {
    if (a.name == name) return a;
    names.push_back(a.name);
  }
  throw Error("unknown --arch '" + name + "' (choose one of: " + absl::StrJoin(names, ", ") + ")");
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Recipe& recipe, const std::vector<Tensor>& params, double lr,
                                                 double weight_decay) {
  if (recipe.optimizer == "adam") {
    if (weight_decay > 0) return std::make_unique<optim::AdamW>(params, lr, optim::AdamOptions{}, weight_decay);
    return std::make_unique<optim::Adam>(params, lr);
  }
  return std::make_unique<optim::SGD>(params, lr, optim::SGDOptions{.momentum = recipe.momentum}, weight_decay);
}

}  // namespace tg::examples
