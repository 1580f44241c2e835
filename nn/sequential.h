// tapegrad/nn/sequential.h: a chain of modules (any Module, including user-defined ones), named
// "0", "1", ... like torch.nn.Sequential.
//   auto net = std::make_shared<tg::nn::Sequential>(std::initializer_list<std::shared_ptr<tg::nn::Module>>{
//       std::make_shared<tg::nn::Linear>(4, 8), std::make_shared<tg::nn::ReLU>()});
#pragma once

#include <initializer_list>

#include "nn/module.h"

namespace tg::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a module named by its position.
  Sequential& push_back(std::shared_ptr<Module> module);
  Tensor forward(const Tensor& input) override;
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace tg::nn
