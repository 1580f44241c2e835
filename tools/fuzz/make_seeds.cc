// tapegrad/tools/fuzz/make_seeds.cc: writes valid model and checkpoint files into a directory,
// the seed corpus of loader_fuzzer.
#include <cstdio>
#include <string>

#include "io/checkpoint.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/adam.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  tg::manual_seed(0);
  auto cnn = std::make_shared<tg::nn::Sequential>(std::initializer_list<std::shared_ptr<tg::nn::Module>>{
      std::make_shared<tg::nn::Conv2d>(tg::nn::Conv2dOptions(1, 2, 3).padding(1)), std::make_shared<tg::nn::BatchNorm2d>(2),
      std::make_shared<tg::nn::ReLU>(), std::make_shared<tg::nn::MaxPool2d>(2), std::make_shared<tg::nn::Flatten>(),
      std::make_shared<tg::nn::Dropout>(0.5), std::make_shared<tg::nn::Linear>(8, 3), std::make_shared<tg::nn::LogSoftmax>(1)});
  cnn->eval();
  auto mlp = std::make_shared<tg::nn::Linear>(4, 3);
  tg::optim::Adam adam(mlp->parameters(), 0.01);
  tg::cross_entropy((*mlp)(tg::randn({2, 4})), tg::tensor(std::vector<int64_t>{0, 2})).backward();
  adam.step();
  const absl::Status statuses[] = {
      tg::io::save_model(*cnn, tg::randn({1, 1, 4, 4}), dir + "/cnn.tgm", {{"k", "v"}}),
      tg::io::save_model(*mlp, tg::randn({1, 4}), dir + "/linear.tgm"),
      tg::io::save_checkpoint(dir + "/adam.ckpt", {mlp.get(), &adam, nullptr, 1, 1, {{"k", "v"}}}),
      tg::io::save(*mlp, dir + "/linear.tgw"),
  };
  for (const absl::Status& s : statuses) {
    if (!s.ok()) {
      std::fprintf(stderr, "make_seeds: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  return 0;
}
