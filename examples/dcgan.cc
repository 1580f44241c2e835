// tapegrad/examples/dcgan.cc: a deep convolutional GAN on MNIST (pytorch/examples' cpp/dcgan): a
// generator of transposed convolutions turns 100-d noise into 28x28 digits, a convolutional
// discriminator tells them from real ones, each trained with Adam against the other. After each
// epoch 64 samples of fixed noise are written as a PNG grid, and a trained MNIST classifier
// (cnn_small: --classifier=FILE.tgm from `mnist_cnn --save`, else trained here first) labels 1,000
// generated digits: sample_confidence is its mean top probability, class_coverage the share of
// the rarest class (0.1 when the ten digits come equally often).
//   bazel run -c opt //examples:dcgan -- --data_dir=$PWD/data/mnist --images=$PWD/dcgan
// Prints "epoch E d_loss X g_loss Y sample_confidence C class_coverage V seconds S" per epoch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/mnist_models.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/image.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "data/mnist", "MNIST IDX files (tools/fetch_mnist.sh fetches them)");
ABSL_FLAG(int, epochs, 10, "passes over the training set");
ABSL_FLAG(int64_t, batch_size, 64, "images per step");
ABSL_FLAG(double, lr, 2e-4, "Adam learning rate of both networks (beta1 0.5)");
ABSL_FLAG(int64_t, noise, 100, "size of the generator's noise vector");
ABSL_FLAG(int64_t, train_limit, 0, "train the GAN on the first N images only (0: all 60,000; the judge uses all)");
ABSL_FLAG(std::string, classifier, "", "a saved MNIST classifier (.tgm) to judge the samples; empty: train cnn_small");
ABSL_FLAG(int, classifier_epochs, 1, "epochs of cnn_small when no --classifier is given");
ABSL_FLAG(int64_t, judged_samples, 1000, "generated digits the classifier labels after each epoch");
ABSL_FLAG(std::string, images, "", "a folder for samples_E.png after each epoch");
ABSL_FLAG(std::string, save, "", "write the trained generator (a .tgm from noise [N, noise, 1, 1]) here");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, order, noise and labels");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;
using nn::Conv2dOptions;
using nn::ConvTranspose2dOptions;
using ModuleList = std::initializer_list<std::shared_ptr<nn::Module>>;

// noise [N, noise, 1, 1] -> images [N, 1, 28, 28] in [-1, 1].
std::shared_ptr<nn::Sequential> make_generator(int64_t noise) {
  return std::make_shared<nn::Sequential>(ModuleList{
      std::make_shared<nn::ConvTranspose2d>(ConvTranspose2dOptions(noise, 256, 4).bias(false)),  // 4x4
      std::make_shared<nn::BatchNorm2d>(256), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(ConvTranspose2dOptions(256, 128, 3).stride(2).padding(1).bias(false)),  // 7x7
      std::make_shared<nn::BatchNorm2d>(128), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1).bias(false)),  // 14x14
      std::make_shared<nn::BatchNorm2d>(64), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1).bias(false)),  // 28x28
      std::make_shared<nn::Tanh>()});
}

// images [N, 1, 28, 28] -> one logit per image [N] (real: positive).
std::shared_ptr<nn::Sequential> make_discriminator() {
  return std::make_shared<nn::Sequential>(ModuleList{
      std::make_shared<nn::Conv2d>(Conv2dOptions(1, 64, 4).stride(2).padding(1).bias(false)),  // 14x14
      std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(Conv2dOptions(64, 128, 4).stride(2).padding(1).bias(false)),  // 7x7
      std::make_shared<nn::BatchNorm2d>(128), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(Conv2dOptions(128, 256, 4).stride(2).padding(1).bias(false)),  // 3x3
      std::make_shared<nn::BatchNorm2d>(256), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(Conv2dOptions(256, 1, 3).bias(false)),  // 1x1
      std::make_shared<nn::Flatten>(0)});
}

// A classifier of MNIST-normalized images and the statistics it expects.
struct Judge {
  std::shared_ptr<nn::Module> model;
  double mean = io::kMnistMean, std = io::kMnistStd;
};

// The file's model, or cnn_small trained on the training images (its test accuracy printed).
Judge make_judge(const io::MnistSplits& data, uint64_t seed) {
  if (const std::string path = absl::GetFlag(FLAGS_classifier); !path.empty()) {
    auto loaded = io::load_model(path);
    TG_CHECK(loaded.ok(), "--classifier: ", loaded.status().message());
    const auto recorded = io::input_normalization(loaded->metadata, path);
    TG_CHECK(recorded.ok(), "--classifier: ", recorded.status().message());
    if (!*recorded) return {loaded->module};  // MNIST's statistics
    return {loaded->module, (*recorded)->mean, (*recorded)->std};
  }
  const examples::Architecture& arch = examples::find_architecture("cnn_small");
  const io::Transform norm = io::normalize(io::kMnistMean, io::kMnistStd);
  io::DataLoader train(io::TensorDataset(data.train.images, data.train.labels),
                       {.batch_size = arch.recipe.batch_size, .seed = seed}, norm);
  io::DataLoader test(io::TensorDataset(data.test.images, data.test.labels), {.batch_size = 1000, .shuffle = false}, norm);
  auto model = arch.build();
  auto optimizer = examples::make_optimizer(arch.recipe, model->parameters(), arch.recipe.lr);
  for (int epoch = 0; epoch < absl::GetFlag(FLAGS_classifier_epochs); ++epoch) {
    auto batches = train.epoch(epoch);
    for (io::Batch b; batches->next(&b);) {
      optimizer->zero_grad();
      cross_entropy((*model)(b.inputs), b.targets).backward();
      optimizer->step();
    }
  }
  std::printf("judge cnn_small test_accuracy %.4f\n", io::classification_accuracy(*model, test));
  return {model};
}

struct Judgement {
  double confidence;     // mean top probability
  double coverage;       // share of the rarest class
};

// The judge's verdict on n generated digits.
// The generator stays in training mode (batch statistics), as pytorch/examples samples it: early
// in training its running statistics lag far behind its weights.
Judgement judge_samples(Judge& judge, nn::Module& generator, int64_t n, int64_t noise) {
  NoGradGuard no_grad;
  judge.model->eval();
  std::vector<int64_t> counts(10, 0);
  double confidence = 0;
  for (int64_t first = 0; first < n; first += 500) {
    const int64_t m = std::min<int64_t>(500, n - first);
    const Tensor pixels = (generator(randn({m, noise, 1, 1})) + 1.0) * 0.5;
    const Tensor p = softmax((*judge.model)((pixels - judge.mean) / judge.std), 1);
    const auto [top, label] = max(p, 1);
    confidence += sum(top).item();
    for (int64_t c : label.to_vector<int64_t>()) ++counts.at(c);
  }
  return {confidence / n, static_cast<double>(*std::min_element(counts.begin(), counts.end())) / n};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("dcgan [--epochs=N] [--images=DIR]: a generative adversarial network draws MNIST digits");
  absl::ParseCommandLine(argc, argv);
  try {
    auto data = io::load_mnist_splits(absl::GetFlag(FLAGS_data_dir));
    if (!data.ok()) {
      std::fprintf(stderr, "dcgan: %s\n(tools/fetch_mnist.sh fetches MNIST into data/mnist)\n",
                   std::string(data.status().message()).c_str());
      return 1;
    }
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    const int64_t batch = absl::GetFlag(FLAGS_batch_size), noise = absl::GetFlag(FLAGS_noise);
    TG_CHECK(batch > 0 && noise > 0 && absl::GetFlag(FLAGS_judged_samples) > 0,
             "--batch_size, --noise and --judged_samples must be positive");
    const std::string image_dir = absl::GetFlag(FLAGS_images);
    if (!image_dir.empty()) std::filesystem::create_directories(image_dir);
    manual_seed(seed);
    Judge judge = make_judge(*data, seed);

    // Pixels to [-1, 1], the generator's tanh range.
    const io::Mnist train = absl::GetFlag(FLAGS_train_limit) > 0
                                ? io::first_examples(data->train, absl::GetFlag(FLAGS_train_limit))
                                : data->train;
    io::DataLoader loader(io::TensorDataset(train.images, train.labels),
                          {.batch_size = batch, .drop_last = true, .seed = seed}, io::normalize(0.5, 0.5));
    TG_CHECK(loader.num_batches() > 0, "dcgan: fewer training images than one batch of ", batch);
    auto generator = make_generator(noise);
    auto discriminator = make_discriminator();
    const double lr = absl::GetFlag(FLAGS_lr);
    optim::Adam g_optimizer(generator->parameters(), lr, {.beta1 = 0.5});
    optim::Adam d_optimizer(discriminator->parameters(), lr, {.beta1 = 0.5});
    const Tensor fixed_noise = randn({64, noise, 1, 1});
    std::printf("generator params %lld discriminator params %lld train_images %lld\n",
                static_cast<long long>(generator->num_parameters()),
                static_cast<long long>(discriminator->num_parameters()),
                static_cast<long long>(train.images.size(0)));

    // --checkpoint=PATH keeps the generator's training state there and the discriminator's in
    // PATH.1; the metrics are d_loss and the judge's sample_confidence.
    examples::EpochLog log("dcgan", "DCGAN on MNIST: discriminator loss and sample confidence",
                           {.name = "sample_confidence"});
    const std::map<std::string, std::string> settings{{"noise", std::to_string(noise)},
                                                      {"batch_size", std::to_string(batch)}};
    const io::TrainingState g_state{generator.get(), &g_optimizer, nullptr, 0, 0, settings};
    const io::TrainingState d_state{discriminator.get(), &d_optimizer, nullptr, 0, 0, settings};
    for (int epoch = log.resume({g_state, d_state}); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      examples::Progress progress(epoch, loader.num_batches(), batch);
      double d_sum = 0, g_sum = 0;
      int64_t steps = 0;
      auto batches = loader.epoch(epoch - 1);
      for (io::Batch b; batches->next(&b);) {
        const int64_t n = b.inputs.size(0);
        // The discriminator: real images towards 0.8..1 (one-sided label smoothing, as
        // cpp/dcgan), generated ones towards 0; the generated batch is detached.
        d_optimizer.zero_grad();
        const Tensor fake = (*generator)(randn({n, noise, 1, 1}));
        const Tensor d_real = binary_cross_entropy_with_logits((*discriminator)(b.inputs), rand({n}) * 0.2 + 0.8);
        const Tensor d_fake = binary_cross_entropy_with_logits((*discriminator)(fake.detach()), zeros({n}));
        Tensor d_loss = d_real + d_fake;
        d_loss.backward();
        d_optimizer.step();
        // The generator: make the discriminator call its images real.
        g_optimizer.zero_grad();
        Tensor g_loss = binary_cross_entropy_with_logits((*discriminator)(fake), ones({n}));
        g_loss.backward();
        g_optimizer.step();
        d_sum += d_loss.item();
        g_sum += g_loss.item();
        progress.update(steps++, d_loss.item());
      }
      progress.finish();
      const Judgement verdict = judge_samples(judge, *generator, absl::GetFlag(FLAGS_judged_samples), noise);
      if (!image_dir.empty()) {
        NoGradGuard no_grad;
        const Tensor samples = ((*generator)(fixed_noise) + 1.0) * 0.5;
        const std::string path = image_dir + "/samples_" + std::to_string(epoch) + ".png";
        const absl::Status s = io::save_png(io::make_grid(samples, 8), path);
        TG_CHECK(s.ok(), "cannot write ", path, ": ", s.message());
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d d_loss %.4f g_loss %.4f sample_confidence %.4f class_coverage %.4f seconds %.1f\n", epoch,
                  d_sum / steps, g_sum / steps, verdict.confidence, verdict.coverage, seconds);
      std::fflush(stdout);
      log.record({epoch, d_sum / steps, verdict.confidence, seconds}, {g_state, d_state});
    }
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      generator->eval();
      const absl::Status saved = io::save_model(*generator, fixed_noise.narrow(0, 0, 1), path,
                                                {{"output_range", "-1,1"}, {"noise", std::to_string(noise)}});
      TG_CHECK(saved.ok(), "saving the generator failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "dcgan: %s\n", e.what());
    return 2;
  }
  return 0;
}
