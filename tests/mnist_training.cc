// tapegrad/tests/mnist_training.cc: see mnist_training.h.
#include "tests/mnist_training.h"

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "gtest/gtest.h"
#include "io/data_loader.h"

namespace tg::mnist_test {

io::Mnist load_mnist_or_fail(bool train) {
  auto m = io::load_mnist("data/mnist", train);
  if (!m.ok()) {
    ADD_FAILURE() << m.status() << " (run tools/setup.sh, which fetches MNIST into data/mnist)";
    return {};
  }
  return *m;
}

std::vector<double> train_cnn_small(nn::Module& model, const io::Mnist& data, int64_t steps, uint64_t seed,
                                    const std::function<void(int64_t)>& after_step) {
  const auto& arch = examples::find_architecture("cnn_small");
  auto optimizer = examples::make_optimizer(arch.recipe, model.parameters(), arch.recipe.lr);
  io::DataLoader loader(io::TensorDataset(data.images, data.labels), {.batch_size = 50, .seed = seed},
                        io::normalize(io::kMnistMean, io::kMnistStd));
  std::vector<double> losses;
  for (int64_t e = 0; static_cast<int64_t>(losses.size()) < steps; ++e) {
    auto epoch = loader.epoch(e);
    for (io::Batch b; static_cast<int64_t>(losses.size()) < steps && epoch->next(&b);) {
      optimizer->zero_grad();
      Tensor loss = cross_entropy(model(b.inputs), b.targets);
      loss.backward();
      optimizer->step();
      losses.push_back(loss.item());
      if (after_step) after_step(static_cast<int64_t>(losses.size()));
    }
  }
  return losses;
}

}  // namespace tg::mnist_test
