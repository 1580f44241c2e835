// tapegrad/io/onnx_export_test.cc: exported models pass onnx::checker; unmapped ops are named;
// the exported MNIST CNN (briefly trained on real MNIST) runs in ONNX Runtime (npm
// onnxruntime-node, installed by tools/setup.sh) with logits within 1e-4 of tapegrad's and the
// same predictions.
#include "io/onnx_export.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "autograd/tapegrad.h"
#include "examples/mnist_models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"
#include "io/data_loader.h"
#include "io/file_io.h"
#include "io/mnist.h"
#include "nn/nn.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;

std::string tmp(const std::string& name) { return testing::tmp_path(name); }

TEST(OnnxExport, LayersOfTheExamplesPassTheChecker) {
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 4, 3).padding(1)), std::make_shared<nn::BatchNorm2d>(4),
      std::make_shared<nn::LeakyReLU>(0.1), std::make_shared<nn::AvgPool2d>(2), std::make_shared<nn::Tanh>(),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(), std::make_shared<nn::Dropout>(0.3),
      std::make_shared<nn::Linear>(4 * 2 * 2, 6), std::make_shared<nn::Sigmoid>(), std::make_shared<nn::Linear>(6, 3),
      std::make_shared<nn::LogSoftmax>(1)});
  model->eval();
  auto onnx = to_onnx(*model, randn({2, 1, 8, 8}));
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  std::set<std::string> ops;
  for (const auto& n : onnx->graph().node()) ops.insert(n.op_type());
  for (const char* op : {"Conv", "BatchNormalization", "LeakyRelu", "AveragePool", "Tanh", "MaxPool", "Flatten",
                         "Dropout", "Transpose", "MatMul", "Add", "Sigmoid", "LogSoftmax"}) {
    EXPECT_TRUE(ops.count(op)) << op;
  }
  EXPECT_EQ(onnx->opset_import(0).version(), 13);
  EXPECT_EQ(onnx->graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "N");
}

TEST(OnnxExport, UnmappedOpIsNamed) {
  struct Gelu : nn::Module {
    Gelu() : Module("Gelu") {}
    Tensor forward(const Tensor& x) override { return gelu(x); }
  } m;
  auto onnx = to_onnx(m, randn({2, 3}));
  ASSERT_FALSE(onnx.ok());
  EXPECT_THAT(std::string(onnx.status().message()), HasSubstr("op 'gelu' has no ONNX mapping: ONNX has Gelu only from opset 20"));
}

// Embedding (Gather of int64 tokens), LayerNorm (its opset-13 chain) and Linear over [N, T]:
// traced at [2, 5], run in ONNX Runtime at another batch and length (both dims symbolic).
TEST(OnnxExport, TokenModelRunsInOnnxRuntimeAtAnotherBatchAndLength) {
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "Node.js is not installed: skipping the ONNX Runtime check";
  manual_seed(5);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Embedding>(13, 8), std::make_shared<nn::LayerNorm>(8), std::make_shared<nn::Linear>(8, 13)});
  auto onnx = to_onnx(*model, randint(0, 13, {2, 5}));
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  const auto& dims = onnx->graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(dims.dim(0).dim_param(), "N");
  EXPECT_EQ(dims.dim(1).dim_param(), "input_dim1");
  ASSERT_TRUE(save_onnx(*onnx, tmp("tokens.onnx")).ok());
  const Tensor tokens = randint(0, 13, {3, 9});
  Tensor logits;
  {
    NoGradGuard no_grad;
    logits = (*model)(tokens);
  }
  const ops::Array x = tokens.data().contiguous();
  std::ofstream(tmp("tokens.bin"), std::ios::binary).write(static_cast<const char*>(x.raw_data()), x.numel() * 8);
  const std::string cmd = "node tools/onnxruntime/run_model.js " + tmp("tokens.onnx") + " " + tmp("tokens.bin") +
                          " int64:3,9 " + tmp("logits.bin");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto bytes = read_file(tmp("logits.bin"));
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 3u * 9 * 13 * 4);
  const float* ort = reinterpret_cast<const float*>(bytes->data());
  const std::vector<float> ours = logits.to_vector<float>();
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_NEAR(ours[i], ort[i], 1e-4) << i;
}

// A character transformer: Embedding, a pre-norm encoder layer with a causal mask (fused
// attention with an additive mask: Einsum/Softmax), Linear; run in ONNX Runtime at another batch.
TEST(OnnxExport, CausalTransformerRunsInOnnxRuntime) {
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "Node.js is not installed: skipping the ONNX Runtime check";
  manual_seed(8);
  struct CharTransformer : nn::Module {
    CharTransformer() : Module("CharTransformer") {
      embed = register_module("embed", std::make_shared<nn::Embedding>(20, 16));
      block = register_module("block", std::make_shared<nn::TransformerEncoderLayer>(
                                           nn::TransformerEncoderLayerOptions{16, 4, 32, 0.0, "relu", 1e-5, true, true}));
      head = register_module("head", std::make_shared<nn::Linear>(16, 20));
    }
    Tensor forward(const Tensor& tokens) override {
      return (*head)(block->forward((*embed)(tokens), nn::generate_square_subsequent_mask(tokens.size(1))));
    }
    std::shared_ptr<nn::Embedding> embed;
    std::shared_ptr<nn::TransformerEncoderLayer> block;
    std::shared_ptr<nn::Linear> head;
  } model;
  model.eval();
  auto onnx = to_onnx(model, randint(0, 20, {2, 6}));
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  // The mask is built at the traced length: the length stays fixed, the batch symbolic.
  EXPECT_EQ(onnx->graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 6);
  ASSERT_TRUE(save_onnx(*onnx, tmp("char_transformer.onnx")).ok());
  const Tensor tokens = randint(0, 20, {3, 6});
  Tensor logits;
  {
    NoGradGuard no_grad;
    logits = model(tokens);
  }
  const ops::Array x = tokens.data().contiguous();
  std::ofstream(tmp("chars.bin"), std::ios::binary).write(static_cast<const char*>(x.raw_data()), x.numel() * 8);
  const std::string cmd = "node tools/onnxruntime/run_model.js " + tmp("char_transformer.onnx") + " " + tmp("chars.bin") +
                          " int64:3,6 " + tmp("char_logits.bin");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto bytes = read_file(tmp("char_logits.bin"));
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 3u * 6 * 20 * 4);
  const float* ort = reinterpret_cast<const float*>(bytes->data());
  const std::vector<float> ours = logits.to_vector<float>();
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_NEAR(ours[i], ort[i], 1e-4) << i;
}

TEST(OnnxExport, MnistCnnMatchesOnnxRuntime) {
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "Node.js is not installed: skipping the ONNX Runtime check";
  auto train = load_mnist("data/mnist", true);
  auto test = load_mnist("data/mnist", false);
  ASSERT_TRUE(train.ok() && test.ok()) << "run tools/setup.sh to fetch MNIST";
  manual_seed(0);
  auto model = examples::find_architecture("cnn_small").build();
  {
    auto opt = examples::make_optimizer({"adam", 1e-3, 0, 50}, model->parameters(), 1e-3);
    const Mnist slice = first_examples(*train, 2000);
    DataLoader loader(TensorDataset(slice.images, slice.labels),
                      {.batch_size = 50}, normalize(kMnistMean, kMnistStd));
    auto epoch = loader.epoch(0);
    for (Batch b; epoch->next(&b);) {
      opt->zero_grad();
      cross_entropy((*model)(b.inputs), b.targets).backward();
      opt->step();
    }
  }
  model->eval();
  DataLoader test_loader(TensorDataset(test->images, test->labels), {.batch_size = 256, .shuffle = false},
                         normalize(kMnistMean, kMnistStd));
  Batch batch;
  ASSERT_TRUE(test_loader.epoch(0)->next(&batch));
  Tensor logits;
  {
    NoGradGuard no_grad;
    logits = (*model)(batch.inputs);
  }
  auto onnx = to_onnx(*model, batch.inputs);
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  ASSERT_TRUE(save_onnx(*onnx, tmp("mnist.onnx")).ok());
  {
    const ops::Array x = batch.inputs.data().contiguous();
    std::ofstream(tmp("input.bin"), std::ios::binary).write(static_cast<const char*>(x.raw_data()), x.numel() * 4);
  }
  const std::string script = "tools/onnxruntime/run_model.js";
  const std::string cmd = "node " + script + " " + tmp("mnist.onnx") + " " + tmp("input.bin") + " 256,1,28,28 " +
                          tmp("output.bin");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (tools/setup.sh installs onnxruntime-node)";
  auto bytes = read_file(tmp("output.bin"));
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 256u * 10 * 4);
  const float* ort = reinterpret_cast<const float*>(bytes->data());
  const std::vector<float> ours = logits.to_vector<float>();
  double max_diff = 0;
  for (size_t i = 0; i < ours.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(ours[i]) - ort[i]));
  EXPECT_LT(max_diff, 1e-4);
  int agree = 0;
  for (int r = 0; r < 256; ++r) {
    int a = 0, b = 0;
    for (int c = 1; c < 10; ++c) {
      if (ours[r * 10 + c] > ours[r * 10 + a]) a = c;
      if (ort[r * 10 + c] > ort[r * 10 + b]) b = c;
    }
    agree += a == b;
  }
  EXPECT_EQ(agree, 256);
  std::printf("ONNX Runtime parity: max |logit difference| %.3g over 256 test images, %d/256 predictions equal\n",
              max_diff, agree);
}

}  // namespace
}  // namespace tg::io
