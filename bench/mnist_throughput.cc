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
#include <map>
#include <string>

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"

namespace {

using namespace tg;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int run(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) throw Error("usage: --arch=A --steps=N --threads=T --data_dir=D --backend=fast|reference [--to_accuracy=X --max_epochs=E --seed=S]");
    flags[a.substr(2, eq - 2)] = a.substr(eq + 1);
  }
  for (const auto& [k, v] : flags) {
    if (k != "arch" && k != "steps" && k != "threads" && k != "data_dir" && k != "backend" && k != "to_accuracy" &&
        k != "max_epochs" && k != "seed")
      throw Error("unknown flag --" + k);
  }
  // --backend=reference measures the portable im2col + BLAS path instead of oneDNN.
  if (flags.count("backend")) {
    TG_CHECK(flags["backend"] == "fast" || flags["backend"] == "reference", "--backend: fast or reference, got '",
             flags["backend"], "'");
    ops::set_backend(flags["backend"] == "fast" ? ops::Backend::kFast : ops::Backend::kReference);
  }
  const auto& arch = examples::find_architecture(flags.count("arch") ? flags["arch"] : "cnn_small");
  const int steps = flags.count("steps") ? std::stoi(flags["steps"]) : 200;
  if (flags.count("threads")) set_num_threads(std::stoi(flags["threads"]));
  const std::string dir = flags.count("data_dir") ? flags["data_dir"] : "data/mnist";
  auto train = io::load_mnist(dir, true);
  auto test = io::load_mnist(dir, false);
  if (!train.ok() || !test.ok()) throw Error(std::string((train.ok() ? test.status() : train.status()).message()));

  const uint64_t seed = flags.count("seed") ? std::stoull(flags["seed"]) : 0;  // initialization and shuffling
  manual_seed(seed);
  auto model = arch.build();
  auto optimizer = examples::make_optimizer(arch.recipe, model->parameters(), arch.recipe.lr);
  const io::Transform norm = io::normalize(io::kMnistMean, io::kMnistStd);
  io::DataLoader loader(io::TensorDataset(train->images, train->labels),
                        {.batch_size = arch.recipe.batch_size, .seed = seed}, norm);
  io::DataLoader test_loader(io::TensorDataset(test->images, test->labels), {.batch_size = 1000, .shuffle = false},
                             norm);
  if (flags.count("to_accuracy")) {
    // Whole epochs of the recipe until the test accuracy reaches the goal; training time only
    // (the evaluation after each epoch is not counted).
    const double goal = std::stod(flags["to_accuracy"]);
    const int max_epochs = flags.count("max_epochs") ? std::stoi(flags["max_epochs"]) : 10;
    double seconds = 0, accuracy = 0;
    int e = 0;
    while (e < max_epochs && accuracy < goal) {
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
    if (accuracy < goal) {
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
  try {
    return run(argc, argv);
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "mnist_throughput: %s\n", e.what());
    return 2;
  }
}
