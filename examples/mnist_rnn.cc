// tapegrad/examples/mnist_rnn.cc: an LSTM reads each MNIST digit as a sequence of 28 rows of 28
// pixels and classifies it from its last hidden state (pytorch/examples' mnist_rnn).
//   bazel run -c opt //examples:mnist_rnn -- --data_dir=$PWD/data/mnist --epochs=3
// Prints "epoch E train_loss X test_accuracy Y seconds Z" per epoch and "test_accuracy Y".
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "data/mnist", "MNIST IDX files (tools/fetch_mnist.sh fetches them)");
ABSL_FLAG(int, epochs, 3, "passes over the training set");
ABSL_FLAG(int64_t, batch_size, 64, "images per step");
ABSL_FLAG(int64_t, hidden, 128, "LSTM hidden size");
ABSL_FLAG(double, lr, 2e-3, "Adam learning rate");
ABSL_FLAG(double, gamma, 0.7, "learning rate factor after each epoch (StepLR)");
ABSL_FLAG(int64_t, train_limit, 0, "train on the first N images only (0: all 60,000)");
ABSL_FLAG(int64_t, test_limit, 0, "test on the first N images only (0: all 10,000)");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization and batch order");
ABSL_FLAG(std::string, save, "", "write the trained model (a .tgm taking normalized images) here");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

// [N, 1, 28, 28] images -> an LSTM over the 28 rows -> the last step's hidden state -> 10 logits.
class RowLstm : public nn::Module {
 public:
  explicit RowLstm(int64_t hidden) : Module("RowLstm") {
    lstm_ = register_module("lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions{28, hidden, 1, true, /*batch_first=*/true}));
    fc_ = register_module("fc", std::make_shared<nn::Linear>(hidden, 10));
  }
  Tensor forward(const Tensor& images) override {
    const Tensor rows = images.reshape({images.size(0), 28, 28});  // [N, T = 28 rows, 28 pixels]
    const Tensor out = lstm_->forward(rows);                         // [N, 28, hidden]
    return (*fc_)(out.select(1, 27));
  }

 private:
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("mnist_rnn [--epochs=N]: an LSTM classifies MNIST digits row by row");
  absl::ParseCommandLine(argc, argv);
  try {
    auto data = io::load_mnist_splits(absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_train_limit),
                                      absl::GetFlag(FLAGS_test_limit));
    if (!data.ok()) {
      std::fprintf(stderr, "mnist_rnn: %s\n(tools/fetch_mnist.sh fetches MNIST into data/mnist)\n",
                   std::string(data.status().message()).c_str());
      return 1;
    }
    const io::Mnist& train = data->train;
    const io::Mnist& test = data->test;
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    const int64_t batch = absl::GetFlag(FLAGS_batch_size);
    const io::Transform norm = io::normalize(io::kMnistMean, io::kMnistStd);
    io::DataLoader train_loader(io::TensorDataset(train.images, train.labels), {.batch_size = batch, .seed = seed}, norm);
    io::DataLoader test_loader(io::TensorDataset(test.images, test.labels), {.batch_size = 1000, .shuffle = false}, norm);
    manual_seed(seed);
    auto model = std::make_shared<RowLstm>(absl::GetFlag(FLAGS_hidden));
    optim::Adam optimizer(model->parameters(), absl::GetFlag(FLAGS_lr));
    optim::StepLR schedule(optimizer, 1, absl::GetFlag(FLAGS_gamma));
    std::printf("params %lld train_images %lld test_images %lld\n", static_cast<long long>(model->num_parameters()),
                static_cast<long long>(train.images.size(0)), static_cast<long long>(test.images.size(0)));

    examples::EpochLog log("mnist_rnn", "LSTM on MNIST rows");
    const io::TrainingState state{model.get(), &optimizer, &schedule, 0, 0,
                                  {{"hidden", std::to_string(absl::GetFlag(FLAGS_hidden))}}};
    for (int epoch = log.resume(state); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
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
        loss_sum += loss.item() * b.targets.numel();
        seen += b.targets.numel();
        progress.update(batches++, loss.item());
      }
      progress.finish();
      schedule.step();
      model->eval();
      const double accuracy = io::classification_accuracy(*model, test_loader);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.1f\n", epoch, loss_sum / seen, accuracy, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / seen, accuracy, seconds}, state);
    }
    TG_CHECK(!log.metrics().empty(), "--epochs must be positive");
    const double accuracy = log.metrics().back().quality;
    std::printf("test_accuracy %.4f\n", accuracy);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      model->eval();
      const absl::Status saved = io::save_model(*model, norm({test.images.narrow(0, 0, 1), Tensor()}).inputs, path,
                                                {{"dataset", "mnist"},
                                                 {"input_mean", std::to_string(io::kMnistMean)},
                                                 {"input_std", std::to_string(io::kMnistStd)},
                                                 {"test_accuracy", std::to_string(accuracy)}});
      TG_CHECK(saved.ok(), "saving the model failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "mnist_rnn: %s\n", e.what());
    return 2;
  }
  return 0;
}
