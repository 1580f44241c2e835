// tapegrad/io/optimize_for_inference_test.cc: the frozen, fused copy of a small ResNet gives the
// model's eval outputs (other batch sizes, channels-last input), actually fuses, does not follow
// later changes to the model, and refuses a model in training mode.
#include "io/optimize_for_inference.h"

#include <string>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "nn/nn.h"

namespace tg::io {
namespace {

// relu(bn2(conv2(relu(bn1(conv1(x))))) + x)
class Block : public nn::Module {
 public:
  explicit Block(int64_t channels) : Module("Block") {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
    bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(channels));
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
    bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(channels));
  }
  Tensor forward(const Tensor& x) override {
    return relu((*bn2_)((*conv2_)(relu((*bn1_)((*conv1_)(x))))) + x);
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
};

std::shared_ptr<nn::Sequential> small_resnet() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)),
      std::make_shared<nn::BatchNorm2d>(16), std::make_shared<nn::ReLU>(), std::make_shared<Block>(16),
      std::make_shared<Block>(16), std::make_shared<nn::AdaptiveAvgPool2d>(1), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(16, 5)});
}

double gap(const Tensor& a, const Tensor& b) { return max(abs(a - b)).item(); }

TEST(OptimizeForInference, FusesAndGivesTheModelsOutputs) {
  manual_seed(11);
  auto model = small_resnet();
  for (int i = 0; i < 3; ++i) (*model)(randn({8, 3, 10, 10}));  // batch-norm statistics away from 0 and 1
  model->eval();
  auto fast = optimize_for_inference(*model, randn({4, 3, 10, 10}));
  ASSERT_TRUE(fast.ok()) << fast.status();
  OnnxModule& m = **fast;
  EXPECT_EQ(m.num_folded_batch_norms(), 5);
  EXPECT_EQ(m.num_fused_convolutions(), 5);  // every Conv has its ReLU or residual Add + ReLU
  EXPECT_GE(m.num_kernel_layout_convolutions(), 4);
  EXPECT_TRUE(m.parameters().empty()) << "frozen: the weights are constants";
  NoGradGuard no_grad;
  for (int64_t batch : {1, 4, 7}) {
    for (bool last : {false, true}) {
      Tensor x = randn({batch, 3, 10, 10});
      if (last) x = x.contiguous(MemoryFormat::ChannelsLast);
      const Tensor want = (*model)(x), got = m.forward(x);
      EXPECT_EQ(got.shape(), want.shape());
      EXPECT_LT(gap(got, want), 1e-4) << "batch " << batch << (last ? " channels last" : "");
      EXPECT_GT(m.kernel_layout_runs(), 0);
    }
  }
}

TEST(OptimizeForInference, IsAFrozenCopy) {
  manual_seed(12);
  auto model = small_resnet();
  model->eval();
  auto fast = optimize_for_inference(*model, randn({2, 3, 10, 10}));
  ASSERT_TRUE(fast.ok()) << fast.status();
  NoGradGuard no_grad;
  const Tensor x = randn({2, 3, 10, 10});
  const Tensor before = (*fast)->forward(x);
  for (auto& p : model->parameters()) p.mul_(1.5);
  EXPECT_GT(gap((*model)(x), before), 1e-3) << "the model changed";
  EXPECT_EQ(gap((*fast)->forward(x), before), 0) << "the copy did not";
}

TEST(OptimizeForInference, RefusesTrainingModeAndNamesTheReason) {
  auto model = small_resnet();
  auto fast = optimize_for_inference(*model, randn({2, 3, 10, 10}));
  ASSERT_FALSE(fast.ok());
  EXPECT_NE(std::string(fast.status().message()).find("call eval() first"), std::string::npos) << fast.status();
  model->eval();
  auto wrong = optimize_for_inference(*model, randn({2, 4, 10, 10}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(std::string(wrong.status().message()).find("optimize_for_inference"), std::string::npos) << wrong.status();
}

}  // namespace
}  // namespace tg::io
