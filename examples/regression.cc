// tapegrad/examples/regression.cc: write your own training loop. An MLP fits a noisy sine curve
// with nn modules, Adam and a cosine LR schedule. This file is quoted in README.md (a test keeps
// the two identical) and run by //examples:regression_test.
#include <cmath>
#include <cstdio>

#include "autograd/tapegrad.h"
#include "nn/nn.h"
#include "optim/optim.h"

int main() {
  tg::manual_seed(0);
  // Data: y = sin(3x) + noise on [-1, 1].
  std::vector<float> xs, ys;
  for (int i = 0; i < 256; ++i) {
    xs.push_back(-1.0f + 2.0f * i / 255);
    ys.push_back(std::sin(3 * xs.back()));
  }
  tg::Tensor x = tg::tensor(xs, {256, 1});
  tg::Tensor y = tg::tensor(ys, {256, 1}) + tg::randn({256, 1}) * 0.05;
  // Model: 1 -> 64 -> 64 -> 1 with tanh.
  auto model = std::make_shared<tg::nn::Sequential>(std::initializer_list<std::shared_ptr<tg::nn::Module>>{
      std::make_shared<tg::nn::Linear>(1, 64), std::make_shared<tg::nn::Tanh>(),
      std::make_shared<tg::nn::Linear>(64, 64), std::make_shared<tg::nn::Tanh>(),
      std::make_shared<tg::nn::Linear>(64, 1)});
  tg::optim::Adam optimizer(model->parameters(), /*lr=*/0.01);
  tg::optim::CosineAnnealingLR schedule(optimizer, /*t_max=*/1500);
  tg::nn::MSELoss criterion;

  double loss_value = 0;
  for (int step = 1; step <= 1500; ++step) {
    optimizer.zero_grad();
    tg::Tensor loss = criterion((*model)(x), y);
    loss.backward();
    optimizer.step();
    schedule.step();
    loss_value = loss.item();
    if (step % 300 == 0) std::printf("step %4d  mse %.5f\n", step, loss_value);
  }
  std::printf("final mse %.5f\n", loss_value);
  return loss_value < 0.01 ? 0 : 1;  // the noise alone gives 0.0025
}
