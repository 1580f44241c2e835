// tapegrad/tests/memory_test.cc: memory stays flat over a long run. Trains cnn_small on MNIST for
// 2,000 steps and checks that peak RSS after 2,000 steps is within 5 % of the peak after 200
// (prints both); any per-step leak (graph, saved tensors, optimizer state, loader batches) or
// fragmentation growth of a few KB per step fails it.
#include <sys/resource.h>

#include <cstdio>

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "gtest/gtest.h"
#include "tests/mnist_training.h"

namespace tg {
namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

TEST(Memory, PeakRssAfter2000StepsWithin5PercentOf200) {
  const io::Mnist data = mnist_test::load_mnist_or_fail(true);
  if (!data.images.defined()) return;
  manual_seed(0);
  auto model = examples::find_architecture("cnn_small").build();
  double at_200 = 0, at_2000 = 0;
  mnist_test::train_cnn_small(*model, data, 2000, 0, [&](int64_t step) {
    if (step == 200) at_200 = peak_rss_mb();
    if (step == 2000) at_2000 = peak_rss_mb();
  });
  std::printf("peak_rss_mb after 200 steps %.1f, after 2000 steps %.1f (ratio %.4f)\n", at_200, at_2000,
              at_2000 / at_200);
  ASSERT_GT(at_200, 0);
  EXPECT_LE(at_2000, 1.05 * at_200);
}

}  // namespace
}  // namespace tg
