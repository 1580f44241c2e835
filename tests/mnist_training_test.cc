// tapegrad/tests/mnist_training_test.cc: end to end on a slice of real MNIST (fetched by
// tools/setup.sh): the cnn_small recipe learns, and training is reproducible bit for bit.
#include <cstdlib>

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "gtest/gtest.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"
#include "tests/mnist_training.h"

namespace tg {
namespace {

using mnist_test::train_cnn_small;

io::Mnist load(bool train) { return mnist_test::load_mnist_or_fail(train); }

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
  const auto losses = train_cnn_small(*model, io::first_examples(train_set, 3000), 60, 0);  // one pass over 3,000 images
  const double after = accuracy(*model, test);
  EXPECT_LT(before, 0.3);
  EXPECT_GT(after, 0.85) << "accuracy on 1,000 test images after 60 steps";
  EXPECT_LT(losses.back(), losses.front() / 3);
}

TEST(MnistTraining, SameSeedSameLossesBitForBit) {
  // Bit-for-bit repeatable training needs a fixed thread count: an adaptive team may change size
  // with the machine's load between the runs (Note [Sharing the cores] in ops/parallel.h).
  set_num_threads(2);
  const io::Mnist train_set = load(true);
  if (!train_set.images.defined()) return;
  const io::Mnist data = io::first_examples(train_set, 500);
  std::vector<std::vector<double>> runs;
  for (int run = 0; run < 2; ++run) {
    manual_seed(7);
    auto model = examples::find_architecture("cnn_small").build();
    runs.push_back(train_cnn_small(*model, data, 8, 7));
  }
  EXPECT_EQ(runs[0], runs[1]);
}

}  // namespace
}  // namespace tg
