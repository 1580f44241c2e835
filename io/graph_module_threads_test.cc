// tapegrad/io/graph_module_threads_test.cc: a loaded model serves several threads at once: four
// threads calling forward concurrently get exactly the outputs of serial calls. Run under
// ThreadSanitizer with `bazel test --config=tsan //io:graph_module_threads_test`.
#include <thread>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/model_file.h"
#include "io/testing/tmp_path.h"
#include "nn/nn.h"

namespace tg::io {
namespace {

TEST(GraphModuleThreads, ConcurrentForwardEqualsSerial) {
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1)), std::make_shared<nn::BatchNorm2d>(8),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Dropout>(0.5), std::make_shared<nn::Linear>(8 * 7 * 7, 10)});
  model->eval();
  const std::string path = testing::tmp_path("threads.tgm");
  ASSERT_TRUE(save_model(*model, randn({1, 1, 14, 14}), path).ok());
  auto loaded = load_model(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  GraphModule& m = *loaded->module;

  constexpr int kThreads = 4, kCalls = 8;
  std::vector<Tensor> inputs;
  for (int i = 0; i < kThreads * kCalls; ++i) inputs.push_back(randn({3, 1, 14, 14}));
  std::vector<std::vector<float>> serial;
  {
    NoGradGuard no_grad;
    for (const Tensor& x : inputs) serial.push_back(m(x).to_vector<float>());
  }
  std::vector<std::vector<float>> concurrent(inputs.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      NoGradGuard no_grad;  // grad mode is per thread
      for (int c = 0; c < kCalls; ++c) {
        const size_t i = static_cast<size_t>(t * kCalls + c);
        concurrent[i] = m(inputs[i]).to_vector<float>();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(concurrent[i], serial[i]) << "call " << i;
}

}  // namespace
}  // namespace tg::io
