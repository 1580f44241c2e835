// tapegrad/tests/mnist_training_test.cc: end to end on a slice of real MNIST (fetched by
// tools/setup.sh): the cnn_small recipe learns, and training is reproducible bit for bit.
#include <cstdlib>

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "gtest/gtest.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"

namespace tg {
namespace {

io::Mnist load(bool train) {
  auto m = io::load_mnist("data/mnist", train);
  if (!m.ok()) {
    ADD_FAILURE() << m.status() << " (run tools/setup.sh, which fetches MNIST into data/mnist)";
    return {};
  }
  return *m;
}

// Trains `steps` batches of cnn_small (Adam 1e-3, batch 50); returns the per-step losses.
std::vector<double> train(nn::Module& model, const io::Mnist& data, int64_t steps, uint64_t seed) {
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
    }
  }
  return losses;
}

double accuracy(nn::Module& model, const io::Mnist& data) {
  return io::classification_accuracy(
      model, io::DataLoader(io::TensorDataset(data.images, data.labels), {.batch_size = 500, .shuffle = false},
                            io::normalize(io::kMnistMean, io::kMnistStd)));
}

TEST(MnistTraining, CnnSmallLearnsFromASlice) {
  const io::Mnist train_set = load(true), test_set = load(false);
  if (!train_set.images.defined() || !test_set.images.defined()) return;
  EXPECT_EQ(train_set.images.shape(), Shape({60000, 1, 28, 28}));
  EXPECT_EQ(test_set.labels.shape(), Shape({10000}));
  manual_seed(0);
  auto model = examples::find_architecture("cnn_small").build();
  const io::Mnist test = io::first_examples(test_set, 1000);
  const double before = accuracy(*model, test);
  const auto losses = train(*model, io::first_examples(train_set, 3000), 60, 0);  // one pass over 3,000 images
  const double after = accuracy(*model, test);
  EXPECT_LT(before, 0.3);
  EXPECT_GT(after, 0.85) << "accuracy on 1,000 test images after 60 steps";
  EXPECT_LT(losses.back(), losses.front() / 3);
}

TEST(MnistTraining, SameSeedSameLossesBitForBit) {
  const io::Mnist train_set = load(true);
  if (!train_set.images.defined()) return;
  const io::Mnist data = io::first_examples(train_set, 500);
  std::vector<std::vector<double>> runs;
  for (int run = 0; run < 2; ++run) {
    manual_seed(7);
    auto model = examples::find_architecture("cnn_small").build();
    runs.push_back(train(*model, data, 8, 7));
  }
  EXPECT_EQ(runs[0], runs[1]);
}

}  // namespace
}  // namespace tg
