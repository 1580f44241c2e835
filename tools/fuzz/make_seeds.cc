// tapegrad/tools/fuzz/make_seeds.cc: writes valid model and checkpoint files into a directory,
// the seed corpus of loader_fuzzer, and with a second directory small PNG, JPEG and CSV files
// there, the seed corpus of data_fuzzer.
//   make_seeds MODEL_DIR [IMAGE_DIR]
#include <cstdio>
#include <string>

#include <turbojpeg.h>

#include <fstream>

#include "io/checkpoint.h"
#include "io/image.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/adam.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: make_seeds MODEL_DIR [IMAGE_DIR]\n");
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
  if (argc == 3) {
    const std::string images = argv[2];
    std::ofstream(images + "/seed.csv") << "a, b ,label\r\n1.5,\"2\",0\n\n-3e2,4,1\n";
    std::ofstream(images + "/seed_plain.csv") << "0.5;1;2\n3;4;5\n";
    for (int channels : {1, 3}) {
      const tg::Tensor x = tg::rand({channels, 9, 7});
      const absl::Status s = tg::io::save_png(x, images + "/seed" + std::to_string(channels) + ".png");
      if (!s.ok()) {
        std::fprintf(stderr, "make_seeds: %s\n", std::string(s.message()).c_str());
        return 1;
      }
      // The same pixels as a baseline JPEG (TurboJPEG), gray or 4:2:0 color.
      std::vector<unsigned char> pixels;
      const std::vector<float> v = x.to_vector<float>();
      for (int p = 0; p < 9 * 7; ++p)
        for (int c = 0; c < channels; ++c) pixels.push_back(static_cast<unsigned char>(v[c * 63 + p] * 255));
      tjhandle handle = tjInitCompress();
      unsigned char* jpeg = nullptr;
      unsigned long size = 0;
      if (tjCompress2(handle, pixels.data(), 7, 0, 9, channels == 3 ? TJPF_RGB : TJPF_GRAY, &jpeg, &size,
                      channels == 3 ? TJSAMP_420 : TJSAMP_GRAY, 75, 0) != 0) {
        std::fprintf(stderr, "make_seeds: %s\n", tjGetErrorStr2(handle));
        return 1;
      }
      std::ofstream(images + "/seed" + std::to_string(channels) + ".jpg", std::ios::binary)
          .write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(size));
      tjFree(jpeg);
      tjDestroy(handle);
    }
  }
  return 0;
}
