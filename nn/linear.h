// tapegrad/nn/linear.h: Linear (y = x W^T + b), initialized like PyTorch.
#pragma once

#include "nn/module.h"

namespace tg::nn {

struct LinearOptions {
  int64_t in_features, out_features;
  bool bias = true;
  DType dtype = kFloat32;
};

class Linear : public Module {
 public:
  explicit Linear(LinearOptions options);
  Linear(int64_t in_features, int64_t out_features, bool bias = true)
      : Linear(LinearOptions{in_features, out_features, bias}) {}
  Tensor forward(const Tensor& input) override;
  // weight: kaiming_uniform(a=sqrt(5)); bias: U(-1/sqrt(in), 1/sqrt(in)).
  void reset_parameters();
  std::string extra_repr() const override;

  const LinearOptions options;
  Tensor weight, bias;
};

}  // namespace tg::nn
