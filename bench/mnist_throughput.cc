// tapegrad/bench/mnist_throughput.cc: training and inference speed of the MNIST architectures.
//   bazel run -c opt //bench:mnist_throughput -- --arch=cnn_small --steps=200 --threads=2 --data_dir=$PWD/data/mnist
// After 20 warm-up steps it prints exactly:
//   train_images_per_s X      (the arch's recipe: optimizer and batch size)
//   infer_images_per_s X      (10,000 test images, batches of 1000, no grad)
//   latency_batch1_us X       (median single-image forward)
//   peak_rss_mb X
// With --to_accuracy=0.99 [--max_epochs=10] it instead trains whole epochs of the recipe until the
// test accuracy reaches the goal and prints "seconds_to_accuracy X" (training time only).
// --seed=S (default 0) seeds initialization and shuffling in both modes.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"

ABSL_FLAG(std::string, arch, "cnn_small", "cnn_small, cnn_wide, cnn_fc3 or lenet5 (with its recipe)");
ABSL_FLAG(int, steps, 200, "timed training steps (after 20 warm-up steps)");
ABSL_FLAG(std::optional<int>, threads, std::nullopt, "fixed thread count (default: adaptive, Note [Sharing the cores])");
ABSL_FLAG(std::string, data_dir, "data/mnist", "MNIST IDX files");
ABSL_FLAG(std::string, backend, "fast", "fast (oneDNN) or reference (the portable im2col + BLAS path)");
ABSL_FLAG(std::optional<double>, to_accuracy, std::nullopt, "train whole epochs until this test accuracy instead");
ABSL_FLAG(int, max_epochs, 10, "with --to_accuracy: give up after this many epochs");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization and shuffling");
ABSL_FLAG(std::optional<bool>, channels_last, std::nullopt,
          "images (so activations) in channels-last memory format (default: the architecture's recipe)");

namespace {

using namespace tg;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int run() {
  const std::string backend = absl::GetFlag(FLAGS_backend);
  TG_CHECK(backend == "fast" || backend == "reference", "--backend: fast or reference, got '", backend, "'");
  ops::set_backend(backend == "fast" ? ops::Backend::kFast : ops::Backend::kReference);
  const auto& arch = examples::find_architecture(absl::GetFlag(FLAGS_arch));
  const int steps = absl::GetFlag(FLAGS_steps);
  TG_CHECK(steps > 0, "--steps must be positive, got ", steps);
  if (auto threads = absl::GetFlag(FLAGS_threads)) set_num_threads(*threads);
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  auto train = io::load_mnist(dir, true);
  auto test = io::load_mnist(dir, false);
  if (!train.ok() || !test.ok()) throw Error(std::string((train.ok() ? test.status() : train.status()).message()));

  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  manual_seed(seed);
  auto model = arch.build();
  auto optimizer = examples::make_optimizer(arch.recipe, model->parameters(), arch.recipe.lr);
  const io::Transform norm =
      io::compose({io::normalize(io::kMnistMean, io::kMnistStd),
                   io::to_memory_format(arch.recipe.image_format(absl::GetFlag(FLAGS_channels_last)))});
  io::DataLoader loader(io::TensorDataset(train->images, train->labels),
                        {.batch_size = arch.recipe.batch_size, .seed = seed}, norm);
  io::DataLoader test_loader(io::TensorDataset(test->images, test->labels), {.batch_size = 1000, .shuffle = false},
                             norm);
  if (const std::optional<double> goal = absl::GetFlag(FLAGS_to_accuracy)) {
    // Whole epochs of the recipe until the test accuracy reaches the goal; training time only
    // (the evaluation after each epoch is not counted).
    const int max_epochs = absl::GetFlag(FLAGS_max_epochs);
    double seconds = 0, accuracy = 0;
    int e = 0;
    while (e < max_epochs && accuracy < *goal) {
      const auto t = Clock::now();
      auto epoch = loader.epoch(e++);
      for (io::Batch b; epoch->next(&b);) {
        optimizer->zero_grad();
        cross_entropy((*model)(b.inputs), b.targets).backward();
        optimizer->step();
      }
      seconds += seconds_since(t);
      accuracy = io::classification_accuracy(*model, test_loader);
      std::printf("epoch %d test_accuracy %.4f train_seconds %.1f\n", e, accuracy, seconds);
    }
    if (accuracy < *goal) {
      std::printf("seconds_to_accuracy nan (%.4f after %d epochs)\n", accuracy, e);
    } else {
      std::printf("seconds_to_accuracy %.1f (epochs %d, test_accuracy %.4f)\n", seconds, e, accuracy);
    }
    return 0;
  }
  constexpr int kWarmup = 20;
  int done = 0;
  Clock::time_point start;
  for (int64_t e = 0; done < kWarmup + steps; ++e) {
    auto epoch = loader.epoch(e);
    for (io::Batch b; done < kWarmup + steps && epoch->next(&b); ++done) {
      if (done == kWarmup) start = Clock::now();
      optimizer->zero_grad();
      cross_entropy((*model)(b.inputs), b.targets).backward();
      optimizer->step();
    }
  }
  const double train_rate = steps * arch.recipe.batch_size / seconds_since(start);

  model->eval();
  NoGradGuard no_grad;
  {
    auto warm = test_loader.epoch(0);
    io::Batch b;
    warm->next(&b);
    (*model)(b.inputs);
  }
  start = Clock::now();
  auto epoch = test_loader.epoch(0);
  for (io::Batch b; epoch->next(&b);) (*model)(b.inputs);
  const double infer_rate = test->images.size(0) / seconds_since(start);

  std::vector<double> latencies;
  for (int i = 0; i < 220; ++i) {
    Tensor x = norm({Tensor(test->images.data().narrow(0, i, 1)), Tensor()}).inputs;
    const auto t = Clock::now();
    (*model)(x);
    if (i >= 20) latencies.push_back(seconds_since(t) * 1e6);
  }
  std::nth_element(latencies.begin(), latencies.begin() + latencies.size() / 2, latencies.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("train_images_per_s %.1f\ninfer_images_per_s %.1f\nlatency_batch1_us %.1f\npeak_rss_mb %.1f\n", train_rate,
              infer_rate, latencies[latencies.size() / 2], usage.ru_maxrss / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("training and inference speed of the MNIST architectures");
  if (absl::ParseCommandLine(argc, argv).size() > 1) {
    std::fprintf(stderr, "mnist_throughput: takes flags only (--help lists them)\n");
    return 2;
  }
  try {
    return run();
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "mnist_throughput: %s\n", e.what());
    return 2;
  }
}
