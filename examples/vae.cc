// tapegrad/examples/vae.cc: a variational autoencoder on MNIST (pytorch/examples' vae): an MLP
// encoder gives a 20-d Gaussian per image, a sample of it (the reparameterization trick) is
// decoded back to 784 pixel probabilities; the loss is the negative ELBO (Bernoulli
// reconstruction + KL divergence from the standard normal), in nats per image.
//   bazel run -c opt //examples:vae -- --data_dir=$PWD/data/mnist --epochs=10 --images=$PWD/vae
// Prints "epoch E train_loss X test_loss Y seconds Z" (negative ELBO, nats per image) and writes
// reconstructions and samples as PNG grids each epoch with --images=DIR.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/data_loader.h"
#include "io/image.h"
#include "io/mnist.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data_dir, "data/mnist", "MNIST IDX files (tools/fetch_mnist.sh fetches them)");
ABSL_FLAG(int, epochs, 10, "passes over the training set");
ABSL_FLAG(int64_t, batch_size, 128, "images per step");
ABSL_FLAG(double, lr, 1e-3, "Adam learning rate");
ABSL_FLAG(int64_t, latent, 20, "size of the code");
ABSL_FLAG(int64_t, train_limit, 0, "train on the first N images only (0: all 60,000)");
ABSL_FLAG(int64_t, test_limit, 0, "test on the first N images only (0: all 10,000)");
ABSL_FLAG(std::string, images, "", "a folder for reconstruction_E.png and sample_E.png after each epoch");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, batch order and the sampled codes");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

class Vae : public nn::Module {
 public:
  explicit Vae(int64_t latent) : Module("Vae") {
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(784, 400));
    fc21_ = register_module("fc21", std::make_shared<nn::Linear>(400, latent));  // mean
    fc22_ = register_module("fc22", std::make_shared<nn::Linear>(400, latent));  // log variance
    fc3_ = register_module("fc3", std::make_shared<nn::Linear>(latent, 400));
    fc4_ = register_module("fc4", std::make_shared<nn::Linear>(400, 784));
  }
  std::pair<Tensor, Tensor> encode(const Tensor& x) {
    const Tensor h = relu((*fc1_)(x));
    return {(*fc21_)(h), (*fc22_)(h)};
  }
  Tensor decode(const Tensor& z) { return sigmoid((*fc4_)(relu((*fc3_)(z)))); }
  // Reconstruction [N, 784], mean and log variance [N, latent]; training samples the code, eval
  // takes the mean.
  std::tuple<Tensor, Tensor, Tensor> run(const Tensor& images) {
    auto [mu, logvar] = encode(images.reshape({-1, 784}));
    const Tensor z = is_training() ? mu + randn_like(mu) * exp(logvar * 0.5) : mu;
    return {decode(z), mu, logvar};
  }
  Tensor forward(const Tensor& images) override { return std::get<0>(run(images)); }

 private:
  std::shared_ptr<nn::Linear> fc1_, fc21_, fc22_, fc3_, fc4_;
};

// Negative ELBO summed over the batch: Bernoulli reconstruction + KL(q(z|x) || N(0, I)).
Tensor negative_elbo(const Tensor& reconstruction, const Tensor& images, const Tensor& mu, const Tensor& logvar) {
  const Tensor bce = binary_cross_entropy(reconstruction, images.reshape({-1, 784}), {}, Reduction::kSum);
  const Tensor kld = sum(1.0 + logvar - mu * mu - exp(logvar)) * -0.5;
  return bce + kld;
}

void write_images(Vae& model, const Tensor& test_images, int epoch) {
  const std::string dir = absl::GetFlag(FLAGS_images);
  if (dir.empty()) return;
  NoGradGuard no_grad;
  const Tensor originals = test_images.narrow(0, 0, 8);
  const Tensor reconstructions = model.forward(originals).reshape({8, 1, 28, 28});
  const Tensor samples = model.decode(randn({64, absl::GetFlag(FLAGS_latent)})).reshape({64, 1, 28, 28});
  for (const auto& [name, grid] : {std::pair{"reconstruction_", io::make_grid(cat({originals, reconstructions}), 8)},
                                   std::pair{"sample_", io::make_grid(samples, 8)}}) {
    const std::string path = dir + "/" + name + std::to_string(epoch) + ".png";
    const absl::Status s = io::save_png(grid, path);
    TG_CHECK(s.ok(), "cannot write ", path, ": ", s.message());
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("vae [--epochs=N] [--images=DIR]: a variational autoencoder on MNIST");
  absl::ParseCommandLine(argc, argv);
  try {
    auto data = io::load_mnist_splits(absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_train_limit),
                                      absl::GetFlag(FLAGS_test_limit));
    if (!data.ok()) {
      std::fprintf(stderr, "vae: %s\n(tools/fetch_mnist.sh fetches MNIST into data/mnist)\n",
                   std::string(data.status().message()).c_str());
      return 1;
    }
    const io::Mnist& train = data->train;
    const io::Mnist& test = data->test;
    if (const std::string dir = absl::GetFlag(FLAGS_images); !dir.empty()) std::filesystem::create_directories(dir);
    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    const int64_t batch = absl::GetFlag(FLAGS_batch_size);
    // Pixels in [0, 1], as the Bernoulli likelihood needs (no normalization).
    io::DataLoader train_loader(io::TensorDataset(train.images, train.labels), {.batch_size = batch, .seed = seed});
    io::DataLoader test_loader(io::TensorDataset(test.images, test.labels), {.batch_size = 1000, .shuffle = false});
    manual_seed(seed);
    auto model = std::make_shared<Vae>(absl::GetFlag(FLAGS_latent));
    optim::Adam optimizer(model->parameters(), absl::GetFlag(FLAGS_lr));

    examples::EpochLog log("vae", "VAE on MNIST", {.name = "test_loss", .fraction = false});
    const io::TrainingState state{model.get(), &optimizer, nullptr, 0, 0,
                                  {{"latent", std::to_string(absl::GetFlag(FLAGS_latent))}}};
    for (int epoch = log.resume(state); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model->train();
      examples::Progress progress(epoch, train_loader.num_batches(), batch);
      double loss_sum = 0;
      int64_t seen = 0, batches = 0;
      auto epoch_batches = train_loader.epoch(epoch - 1);
      for (io::Batch b; epoch_batches->next(&b);) {
        optimizer.zero_grad();
        auto [reconstruction, mu, logvar] = model->run(b.inputs);
        Tensor loss = negative_elbo(reconstruction, b.inputs, mu, logvar);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item();
        seen += b.inputs.size(0);
        progress.update(batches++, loss.item() / b.inputs.size(0));
      }
      progress.finish();
      // The test loss: the mean code, as pytorch/examples evaluates it.
      model->eval();
      double test_sum = 0;
      {
        NoGradGuard no_grad;
        auto test_batches = test_loader.epoch(0);
        for (io::Batch b; test_batches->next(&b);) {
          auto [reconstruction, mu, logvar] = model->run(b.inputs);
          test_sum += negative_elbo(reconstruction, b.inputs, mu, logvar).item();
        }
      }
      const double test_loss = test_sum / static_cast<double>(test.images.size(0));
      write_images(*model, test.images, epoch);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.2f test_loss %.2f seconds %.1f\n", epoch, loss_sum / seen, test_loss, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / seen, test_loss, seconds}, state);
    }
    TG_CHECK(!log.metrics().empty(), "--epochs must be positive");
    std::printf("test_loss %.2f\n", log.metrics().back().quality);
  } catch (const Error& e) {
    std::fprintf(stderr, "vae: %s\n", e.what());
    return 2;
  }
  return 0;
}
