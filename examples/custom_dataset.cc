// tapegrad/examples/custom_dataset.cc: train on your own images (LibTorch's cpp/custom-dataset).
// A folder with one sub-folder of PNG or JPEG images per class (io::load_image_folder, like
// torchvision's ImageFolder) is split into training and test images, augmented (random crops with
// padding, horizontal flips), normalized per channel, and a small CNN learns the classes.
//   bazel run -c opt //examples:make_shapes -- --dir=$PWD/data/shapes      # or your own folder
//   bazel run -c opt //examples:custom_dataset -- --data_dir=$PWD/data/shapes
// Prints "epoch E train_loss X test_accuracy Y seconds Z" per epoch and "test_accuracy Y".
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/image_folder.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "", "the image folder: DIR/CLASS/IMAGE.png|.jpg, one sub-folder per class");
ABSL_FLAG(int, epochs, 15, "passes over the training images");
ABSL_FLAG(int64_t, batch_size, 32, "images per step");
ABSL_FLAG(double, lr, 2e-3, "Adam learning rate");
ABSL_FLAG(double, test_fraction, 0.2, "share of each class held out for testing");
ABSL_FLAG(int, num_workers, 2, "threads preparing (augmenting) batches");
ABSL_FLAG(uint64_t, seed, 0, "seed of the split, initialization, order and augmentation");
ABSL_FLAG(std::string, save, "", "write the trained model (with its normalization) as a .tgm");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

// The training and test rows of the folder: per class, its last test_fraction of images tests.
std::pair<std::vector<int64_t>, std::vector<int64_t>> split(const io::ImageFolder& folder, double test_fraction) {
  const std::vector<int64_t> labels = folder.labels.to_vector<int64_t>();
  std::vector<int64_t> train, test;
  for (size_t c = 0; c < folder.classes.size(); ++c) {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == static_cast<int64_t>(c)) rows.push_back(static_cast<int64_t>(i));
    const auto held = static_cast<size_t>(std::llround(rows.size() * test_fraction));
    train.insert(train.end(), rows.begin(), rows.end() - held);
    test.insert(test.end(), rows.end() - held, rows.end());
  }
  return {train, test};
}

Tensor rows_of(const Tensor& t, const std::vector<int64_t>& rows) {
  return index_select(t, 0, tensor(rows, {static_cast<int64_t>(rows.size())}, kInt64));
}

// conv 16 - pool - conv 32 - pool - linear, for images of `channels` x size x size.
std::shared_ptr<nn::Sequential> make_model(int64_t channels, int64_t size, int64_t classes) {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(channels, 16, 3).padding(1)), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(16, 32, 3).padding(1)), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(32 * (size / 4) * (size / 4), classes)});
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("custom_dataset --data_dir=DIR [--epochs=N]: a CNN learns the classes of an image folder");
  absl::ParseCommandLine(argc, argv);
  try {
    // Set-up: the images, the split, the per-channel statistics of the training images.
    auto folder = io::load_image_folder(absl::GetFlag(FLAGS_data_dir));
    if (!folder.ok()) {
      std::fprintf(stderr, "custom_dataset: %s\n", std::string(folder.status().message()).c_str());
      return 1;
    }
    const double test_fraction = absl::GetFlag(FLAGS_test_fraction);
    TG_CHECK(test_fraction > 0 && test_fraction < 1, "--test_fraction must be in (0, 1)");
    const auto [train_rows, test_rows] = split(*folder, test_fraction);
    TG_CHECK(!train_rows.empty() && !test_rows.empty(), "too few images to split into training and test images");
    const Tensor train_images = rows_of(folder->images, train_rows), test_images = rows_of(folder->images, test_rows);
    const int64_t channels = train_images.size(1), height = train_images.size(2), width = train_images.size(3);
    TG_CHECK(height == width && height % 4 == 0, "custom_dataset: square images with a size divisible by 4 expected, got ",
             height, "x", width);
    const std::vector<double> channel_mean = mean(train_images, {0, 2, 3}).to(kFloat64).to_vector<double>();
    const std::vector<double> channel_std = tg::std(train_images, {0, 2, 3}).to(kFloat64).to_vector<double>();
    const io::Transform normalize = io::normalize(channel_mean, channel_std);
    const io::Transform augment = io::compose({io::random_crop(height, height / 8), io::random_horizontal_flip(), normalize});
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    io::DataLoader train_loader(io::TensorDataset(train_images, rows_of(folder->labels, train_rows)),
                                {.batch_size = absl::GetFlag(FLAGS_batch_size), .seed = seed,
                                 .num_workers = absl::GetFlag(FLAGS_num_workers)},
                                augment);
    io::DataLoader test_loader(io::TensorDataset(test_images, rows_of(folder->labels, test_rows)),
                               {.batch_size = 256, .shuffle = false}, normalize);
    manual_seed(seed);
    auto model = make_model(channels, height, static_cast<int64_t>(folder->classes.size()));
    optim::Adam optimizer(model->parameters(), absl::GetFlag(FLAGS_lr));
    std::printf("classes %zu train_images %zu test_images %zu image %lldx%lldx%lld\n", folder->classes.size(),
                train_rows.size(), test_rows.size(), static_cast<long long>(channels), static_cast<long long>(height),
                static_cast<long long>(width));

    examples::EpochLog log("custom_dataset", "CNN on " + absl::GetFlag(FLAGS_data_dir));
    const io::TrainingState state{model.get(), &optimizer, nullptr, 0, 0,
                                  {{"classes", std::to_string(folder->classes.size())}}};
    for (int epoch = log.resume(state); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model->train();
      examples::Progress progress(epoch, train_loader.num_batches(), absl::GetFlag(FLAGS_batch_size));
      double loss_sum = 0;
      int64_t seen = 0, batches = 0;
      auto epoch_batches = train_loader.epoch(epoch - 1);
      for (io::Batch b; epoch_batches->next(&b);) {
        optimizer.zero_grad();
        Tensor loss = cross_entropy((*model)(b.inputs), b.targets);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item() * b.targets.numel();
        seen += b.targets.numel();
        progress.update(batches++, loss.item());
      }
      progress.finish();
      model->eval();
      const double accuracy = io::classification_accuracy(*model, test_loader);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.3f\n", epoch, loss_sum / seen, accuracy, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / seen, accuracy, seconds}, state);
    }
    TG_CHECK(!log.metrics().empty(), "--epochs must be positive");
    std::printf("test_accuracy %.4f\n", log.metrics().back().quality);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      // The model takes normalized images; the file says how (the mean and std per channel).
      std::string means, stds;
      for (size_t c = 0; c < channel_mean.size(); ++c) {
        means += (c ? "," : "") + std::to_string(channel_mean[c]);
        stds += (c ? "," : "") + std::to_string(channel_std[c]);
      }
      std::string classes;
      for (const std::string& c : folder->classes) classes += (classes.empty() ? "" : ",") + c;
      const absl::Status saved = io::save_model(*model, normalize({narrow(test_images, 0, 0, 1), Tensor()}).inputs, path,
                                                {{"classes", classes}, {"channel_mean", means}, {"channel_std", stds}});
      TG_CHECK(saved.ok(), "saving the model failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "custom_dataset: %s\n", e.what());
    return 2;
  }
  return 0;
}
