// tapegrad/examples/fashion_resnet.cc: ResNet-8 (examples/resnet.h) learns Fashion-MNIST (Debian's
// dataset-fashion-mnist) with augmentation (random crop with 2 pixels of padding, horizontal
// flip) prepared on worker threads; SGD with Nesterov momentum and weight decay, the learning rate
// annealed by a cosine over every step.
//   bazel run -c opt //examples:fashion_resnet -- --epochs=15 --save=$PWD/fashion.tgm
// (ResNet-8 at width 2 by default: 32/64/128 channels; --width=1 is the benchmark workload's.)
// Prints "epoch E train_loss X test_accuracy Y seconds Z" per epoch, then "test_accuracy Y".
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
#include "examples/resnet.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "/usr/share/datasets/fashion-mnist", "Fashion-MNIST IDX files (.gz)");
ABSL_FLAG(int, epochs, 15, "passes over the training set");
ABSL_FLAG(int64_t, batch_size, 128, "images per step");
ABSL_FLAG(double, lr, 0.05, "SGD learning rate at the start (cosine-annealed to 0 over the run)");
ABSL_FLAG(double, momentum, 0.9, "Nesterov momentum");
ABSL_FLAG(double, weight_decay, 5e-4, "L2 weight decay");
ABSL_FLAG(int64_t, width, 2, "channel multiplier (1: blocks of 16/32/64 channels; 2 reaches 93 %)");
ABSL_FLAG(bool, augment, true, "random crop (padding 2) and horizontal flip of the training images");
ABSL_FLAG(bool, channels_last, true, "images in channels-last memory format (faster convolutions)");
ABSL_FLAG(int, num_workers, 2, "threads preparing (augmenting) batches");
ABSL_FLAG(int64_t, train_limit, 0, "train on the first N images only (0: all 60,000)");
ABSL_FLAG(int64_t, test_limit, 0, "test on the first N images only (0: all 10,000)");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, batch order and augmentation");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.
ABSL_FLAG(std::string, save, "", "write the trained model (a .tgm taking normalized images) here");

int main(int argc, char** argv) {
  using namespace tg;
  absl::SetProgramUsageMessage("fashion_resnet [--epochs=N] [--save=FILE.tgm]: ResNet-8 on Fashion-MNIST");
  absl::ParseCommandLine(argc, argv);
  try {
    auto data = io::load_mnist_splits(absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_train_limit),
                                      absl::GetFlag(FLAGS_test_limit));
    if (!data.ok()) {
      std::fprintf(stderr, "fashion_resnet: %s\n(Debian's dataset-fashion-mnist: bash tools/setup.sh installs it)\n",
                   std::string(data.status().message()).c_str());
      return 1;
    }
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    const int64_t batch = absl::GetFlag(FLAGS_batch_size);
    const int epochs = absl::GetFlag(FLAGS_epochs);
    TG_CHECK(epochs > 0 && batch > 0, "--epochs and --batch_size must be positive");
    const io::Transform normalize = io::normalize(io::kFashionMnistMean, io::kFashionMnistStd);
    // Channels-last batches (Note [Channels last]): the convolutions skip their layout reorders.
    const io::Transform layout =
        io::to_memory_format(absl::GetFlag(FLAGS_channels_last) ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous);
    const io::Transform augment =
        absl::GetFlag(FLAGS_augment)
            ? io::compose({io::random_crop(28, 2), io::random_horizontal_flip(), normalize, layout})
            : io::compose({normalize, layout});
    io::DataLoader train_loader(io::TensorDataset(data->train.images, data->train.labels),
                                {.batch_size = batch, .seed = seed, .num_workers = absl::GetFlag(FLAGS_num_workers)},
                                augment);
    io::DataLoader test_loader(io::TensorDataset(data->test.images, data->test.labels),
                               {.batch_size = 500, .shuffle = false}, io::compose({normalize, layout}));
    manual_seed(seed);
    auto model = examples::make_resnet8(1, 10, absl::GetFlag(FLAGS_width));
    optim::SGD optimizer(model->parameters(), absl::GetFlag(FLAGS_lr),
                         {.momentum = absl::GetFlag(FLAGS_momentum), .nesterov = true},
                         absl::GetFlag(FLAGS_weight_decay));
    optim::CosineAnnealingLR schedule(optimizer, epochs * train_loader.num_batches());
    std::printf("params %lld train_images %lld test_images %lld\n", static_cast<long long>(model->num_parameters()),
                static_cast<long long>(data->train.images.size(0)), static_cast<long long>(data->test.images.size(0)));

    examples::EpochLog log("fashion_resnet", "ResNet-8 on Fashion-MNIST");
    const io::TrainingState state{model.get(), &optimizer, &schedule, 0, 0,
                                  {{"width", std::to_string(absl::GetFlag(FLAGS_width))},
                                   {"epochs", std::to_string(epochs)}}};
    for (int epoch = log.resume(state); epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model->train();
      examples::Progress progress(epoch, train_loader.num_batches(), batch);
      double loss_sum = 0;
      int64_t seen = 0, batches = 0;
      auto epoch_batches = train_loader.epoch(epoch - 1);
      for (io::Batch b; epoch_batches->next(&b);) {
        optimizer.zero_grad();
        Tensor loss = cross_entropy((*model)(b.inputs), b.targets);
        loss.backward();
        optimizer.step();
        schedule.step();
        loss_sum += loss.item() * b.targets.numel();
        seen += b.targets.numel();
        progress.update(batches++, loss.item());
      }
      progress.finish();
      const double accuracy = io::classification_accuracy(*model, test_loader);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.1f\n", epoch, loss_sum / seen, accuracy, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / seen, accuracy, seconds}, state);
    }
    TG_CHECK(!log.metrics().empty(), "nothing trained");
    const double accuracy = log.metrics().back().quality;
    std::printf("test_accuracy %.4f\n", accuracy);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      model->eval();
      const Tensor example = normalize({data->test.images.narrow(0, 0, 1), Tensor()}).inputs;
      const absl::Status saved =
          io::save_model(*model, example, path,
                         {{"dataset", "fashion-mnist"},
                          {"input_mean", std::to_string(io::kFashionMnistMean)},
                          {"input_std", std::to_string(io::kFashionMnistStd)},
                          {"test_accuracy", std::to_string(accuracy)}});
      TG_CHECK(saved.ok(), "saving the model failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "fashion_resnet: %s\n", e.what());
    return 2;
  }
  return 0;
}
