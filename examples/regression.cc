// tapegrad/examples/regression.cc: the smallest complete training loop: a 1-32-32-1 MLP fitted
// to y = sin(3x) on [-1, 1] with plain SGD written by hand (the nn/optim packages wrap exactly
// these steps). Prints the loss every 200 steps and the final mean squared error.
//   bazel run -c opt //examples:regression -- --steps=2000
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "autograd/tapegrad.h"

int main(int argc, char** argv) {
  int steps = 2000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--steps=", 8) == 0) steps = std::atoi(argv[i] + 8);
  }
  tg::manual_seed(0);
  // Data: 256 points.
  std::vector<float> xs, ys;
  for (int i = 0; i < 256; ++i) {
    xs.push_back(-1.0f + 2.0f * i / 255);
    ys.push_back(std::sin(3.0f * xs.back()));
  }
  tg::Tensor x = tg::tensor(xs, {256, 1}), y = tg::tensor(ys, {256, 1});

  // Parameters, initialized like PyTorch's Linear (uniform in +-1/sqrt(fan_in)).
  auto param = [](tg::Shape shape, double bound) {
    return (tg::rand(shape) * (2 * bound) - bound).detach().set_requires_grad();
  };
  std::vector<tg::Tensor> params = {param({32, 1}, 1.0), param({32}, 1.0), param({32, 32}, 0.177),
                                    param({32}, 0.177), param({1, 32}, 0.177), param({1}, 0.177)};
  const double lr = 0.1;
  tg::Tensor loss;
  for (int step = 1; step <= steps; ++step) {
    tg::Tensor h = tg::tanh(tg::linear(x, params[0], params[1]));
    h = tg::tanh(tg::linear(h, params[2], params[3]));
    tg::Tensor pred = tg::linear(h, params[4], params[5]);
    loss = tg::mse_loss(pred, y);
    loss.backward();
    {
      tg::NoGradGuard no_grad;
      for (tg::Tensor& p : params) {
        p.add_(p.grad(), -lr);
        p.set_grad(tg::Tensor());
      }
    }
    if (step % 200 == 0 || step == 1) std::printf("step %5d  loss %.6f\n", step, loss.item());
  }
  std::printf("final mse %.6f\n", loss.item());
  return loss.item() < 0.01 ? 0 : 1;
}
