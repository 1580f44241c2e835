// tapegrad/examples/external_workspace/fit_and_reload.cc: a program of another project, built
// against @tapegrad//:tapegrad. It fits an MLP to a noisy sine, saves the model, reloads it
// without its class, checks the reloaded model gives the same outputs and fine-tunes it a few
// steps. Prints "steps_per_s X" (to compare with an in-tree build) and exits non-zero on failure.
//   bazel run //:fit_and_reload -- /tmp/fit.tgm
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "autograd/tapegrad.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "fit_and_reload.tgm";
  tg::manual_seed(0);
  tg::Tensor x = tg::reshape(tg::arange(-1.0, 1.0, 2.0 / 256, tg::kFloat32), {-1, 1});
  tg::Tensor y = tg::sin(x * 3.0) + tg::randn(x.shape()) * 0.05;
  auto model = std::make_shared<tg::nn::Sequential>(std::initializer_list<std::shared_ptr<tg::nn::Module>>{
      std::make_shared<tg::nn::Linear>(1, 64), std::make_shared<tg::nn::Tanh>(),
      std::make_shared<tg::nn::Linear>(64, 64), std::make_shared<tg::nn::Tanh>(),
      std::make_shared<tg::nn::Linear>(64, 1)});
  tg::optim::Adam optimizer(model->parameters(), /*lr=*/0.01);
  const int steps = 1500;
  double mse = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    tg::Tensor loss = tg::mse_loss((*model)(x), y);
    loss.backward();
    optimizer.step();
    mse = loss.item();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("final mse %.5f\nsteps_per_s %.1f\n", mse, steps / seconds);
  if (!(mse < 0.01)) return 1;  // the noise alone gives 0.0025

  model->eval();
  if (absl::Status s = tg::io::save_model(*model, x, path); !s.ok()) {
    std::fprintf(stderr, "save failed: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto loaded = tg::io::load_model(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load failed: %s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  tg::Tensor ours, theirs;
  {
    tg::NoGradGuard no_grad;
    ours = (*model)(x);
    theirs = (*loaded->module)(x);
  }
  const double diff = tg::max(tg::abs(ours - theirs)).item();
  std::printf("reloaded max |difference| %g\n", diff);
  if (diff != 0) return 1;
  // Fine-tune the reloaded graph: its parameters are trainable.
  tg::optim::Adam tune(loaded->module->parameters(), 0.001);
  for (int step = 0; step < 20; ++step) {
    tune.zero_grad();
    tg::Tensor loss = tg::mse_loss((*loaded->module)(x), y);
    loss.backward();
    tune.step();
    mse = loss.item();
  }
  std::printf("fine-tuned mse %.5f\n", mse);
  return mse < 0.01 ? 0 : 1;
}
