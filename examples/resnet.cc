// tapegrad/examples/resnet.cc: see resnet.h.
#include "examples/resnet.h"

namespace tg::examples {

namespace {

std::shared_ptr<nn::Sequential> sequential(std::initializer_list<std::shared_ptr<nn::Module>> modules) {
  return std::make_shared<nn::Sequential>(modules);
}

class BasicBlock : public nn::Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride) : Module("BasicBlock") {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(out));
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out));
    if (stride != 1 || in != out) {
      shortcut_ = register_module(
          "shortcut", sequential({std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                  std::make_shared<nn::BatchNorm2d>(out)}));
    }
  }
  Tensor forward(const Tensor& x) override {
    const Tensor y = (*bn2_)((*conv2_)(relu((*bn1_)((*conv1_)(x)))));
    return relu(y + (shortcut_ ? (*shortcut_)(x) : x));
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::Sequential> shortcut_;
};

}  // namespace

std::shared_ptr<nn::Module> make_resnet8(int64_t in_channels, int64_t classes, int64_t width) {
  TG_CHECK(in_channels > 0 && classes > 0 && width > 0, "make_resnet8: in_channels ", in_channels, ", classes ", classes,
           " and width ", width, " must be positive");
  const int64_t a = 16 * width, b = 32 * width, c = 64 * width;
  return sequential({std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in_channels, a, 3).padding(1).bias(false)),
                     std::make_shared<nn::BatchNorm2d>(a), std::make_shared<nn::ReLU>(),
                     std::make_shared<BasicBlock>(a, a, 1), std::make_shared<BasicBlock>(a, b, 2),
                     std::make_shared<BasicBlock>(b, c, 2), std::make_shared<nn::AdaptiveAvgPool2d>(1),
                     std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(c, classes)});
}

}  // namespace tg::examples
