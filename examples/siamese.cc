// tapegrad/examples/siamese.cc: a siamese network (pytorch/examples' siamese_network) on
// Fashion-MNIST pairs: one CNN embeds both images of a pair with the same weights, a small head
// on the two embeddings gives the probability that they show the same class. Each epoch pairs
// every training image with a partner of its own class or of another, half and half; the test
// pairs are drawn once, the same way, from the test images.
//   bazel run -c opt //examples:siamese -- --epochs=5
// Prints "epoch E train_loss X pair_accuracy Y seconds Z" per epoch, then "pair_accuracy Y".
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "ops/generator.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "/usr/share/datasets/fashion-mnist", "Fashion-MNIST IDX files (.gz)");
ABSL_FLAG(int, epochs, 5, "passes over the training images (each paired afresh)");
ABSL_FLAG(int64_t, batch_size, 64, "pairs per step");
ABSL_FLAG(double, lr, 1e-3, "Adam learning rate");
ABSL_FLAG(double, gamma, 0.7, "learning rate factor after each epoch");
ABSL_FLAG(int64_t, train_limit, 0, "pair the first N training images only (0: all 60,000)");
ABSL_FLAG(int64_t, test_limit, 0, "pair the first N test images only (0: all 10,000)");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, pairs and order");
ABSL_FLAG(std::string, save, "", "write the trained weights (state dict) here");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;
using ModuleList = std::initializer_list<std::shared_ptr<nn::Module>>;

class Siamese : public nn::Module {
 public:
  Siamese() : Module("Siamese") {
    embed_ = register_module("embed", std::make_shared<nn::Sequential>(ModuleList{
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 32, 3).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(2),
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(32, 64, 3).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
        std::make_shared<nn::Linear>(64 * 7 * 7, 128), std::make_shared<nn::ReLU>()}));
    head_ = register_module("head", std::make_shared<nn::Sequential>(ModuleList{
        std::make_shared<nn::Linear>(2 * 128, 128), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 1),
        std::make_shared<nn::Flatten>(0)}));
  }
  // Two image batches [N, 1, 28, 28] -> logits [N] of "same class" (both through one embedding).
  Tensor forward(const Tensor& a, const Tensor& b) {
    return (*head_)(cat({(*embed_)(a), (*embed_)(b)}, 1));
  }
  Tensor forward(const Tensor& pair) override { return forward(pair.select(1, 0).unsqueeze(1), pair.select(1, 1).unsqueeze(1)); }

 private:
  std::shared_ptr<nn::Sequential> embed_, head_;
};

// For every image, a partner: of its own class (target 1) or of another (target 0), half and
// half; returns indices [N, 2] and float targets [N].
std::pair<Tensor, Tensor> make_pairs(const Tensor& labels, uint64_t seed) {
  const std::vector<int64_t> label = labels.to_vector<int64_t>();
  std::vector<std::vector<int64_t>> by_class(10);
  for (size_t i = 0; i < label.size(); ++i) by_class.at(label[i]).push_back(static_cast<int64_t>(i));
  int present = 0;
  for (const auto& members : by_class) present += !members.empty();
  TG_CHECK(present >= 2, "siamese: the images hold ", present, " class(es); pairs need two at least");
  ops::Generator gen(seed);
  std::vector<int64_t> pairs;
  std::vector<float> same;
  for (size_t i = 0; i < label.size(); ++i) {
    const bool positive = gen.uniform() < 0.5;
    int64_t other = label[i];
    while (!positive && (other == label[i] || by_class[other].empty())) other = static_cast<int64_t>(gen.next_u64() % 10);
    const std::vector<int64_t>& pool = by_class[other];
    pairs.insert(pairs.end(), {static_cast<int64_t>(i), pool[gen.next_u64() % pool.size()]});
    same.push_back(positive ? 1.0f : 0.0f);
  }
  const auto n = static_cast<int64_t>(label.size());
  return {tensor(pairs, {n, 2}, kInt64), tensor(same, {n})};
}

// The images of a batch of index pairs: [N, 1, 28, 28] twice.
std::pair<Tensor, Tensor> images_of(const Tensor& images, const Tensor& pairs) {
  return {index_select(images, 0, pairs.select(1, 0).contiguous()),
          index_select(images, 0, pairs.select(1, 1).contiguous())};
}

double pair_accuracy(Siamese& model, const Tensor& images, const Tensor& pairs, const Tensor& same) {
  NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0;
  const int64_t n = pairs.size(0);
  for (int64_t first = 0; first < n; first += 1000) {
    const int64_t m = std::min<int64_t>(1000, n - first);
    const auto [a, b] = images_of(images, pairs.narrow(0, first, m));
    const std::vector<float> logits = model.forward(a, b).to_vector<float>();
    const std::vector<float> truth = same.narrow(0, first, m).to_vector<float>();
    for (int64_t i = 0; i < m; ++i) correct += (logits[i] > 0) == (truth[i] > 0.5f);
  }
  model.train();
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("siamese [--epochs=N]: a siamese network tells whether two Fashion-MNIST images match");
  absl::ParseCommandLine(argc, argv);
  try {
    auto data = io::load_mnist_splits(absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_train_limit),
                                      absl::GetFlag(FLAGS_test_limit));
    if (!data.ok()) {
      std::fprintf(stderr, "siamese: %s\n(Debian's dataset-fashion-mnist: bash tools/setup.sh installs it)\n",
                   std::string(data.status().message()).c_str());
      return 1;
    }
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    const int64_t batch = absl::GetFlag(FLAGS_batch_size);
    TG_CHECK(batch > 0 && absl::GetFlag(FLAGS_epochs) > 0, "--batch_size and --epochs must be positive");
    const auto normalized = [](const Tensor& images) {
      return (images - io::kFashionMnistMean) / io::kFashionMnistStd;
    };
    const Tensor train_images = normalized(data->train.images), test_images = normalized(data->test.images);
    const auto [test_pairs, test_same] = make_pairs(data->test.labels, seed + 1000003);
    manual_seed(seed);
    Siamese model;
    optim::Adam optimizer(model.parameters(), absl::GetFlag(FLAGS_lr));
    optim::StepLR schedule(optimizer, 1, absl::GetFlag(FLAGS_gamma));
    std::printf("params %lld train_pairs %lld test_pairs %lld\n", static_cast<long long>(model.num_parameters()),
                static_cast<long long>(train_images.size(0)), static_cast<long long>(test_pairs.size(0)));

    examples::EpochLog log("siamese", "Siamese network on Fashion-MNIST pairs", {.name = "pair_accuracy"});
    const io::TrainingState state{&model, &optimizer, &schedule};
    for (int epoch = log.resume(state); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      const auto [pairs, same] = make_pairs(data->train.labels, seed * 1000 + epoch);
      io::DataLoader loader(io::TensorDataset(pairs, same), {.batch_size = batch, .seed = seed});
      examples::Progress progress(epoch, loader.num_batches(), batch);
      double loss_sum = 0;
      int64_t seen = 0, batches = 0;
      auto epoch_batches = loader.epoch(epoch - 1);
      for (io::Batch b; epoch_batches->next(&b);) {
        const auto [first, second] = images_of(train_images, b.inputs);
        optimizer.zero_grad();
        Tensor loss = binary_cross_entropy_with_logits(model.forward(first, second), b.targets);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item() * b.targets.numel();
        seen += b.targets.numel();
        progress.update(batches++, loss.item());
      }
      progress.finish();
      schedule.step();
      const double accuracy = pair_accuracy(model, test_images, test_pairs, test_same);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f pair_accuracy %.4f seconds %.1f\n", epoch, loss_sum / seen, accuracy, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / seen, accuracy, seconds}, state);
    }
    std::printf("pair_accuracy %.4f\n", log.metrics().back().quality);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      const absl::Status saved = io::save(model, path);
      TG_CHECK(saved.ok(), "saving failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "siamese: %s\n", e.what());
    return 2;
  }
  return 0;
}
