// tapegrad/optim/sgd.h: stochastic gradient descent with momentum, dampening, Nesterov and
// (L2) weight decay, with PyTorch's update rule:
//   g += wd * p;  buf = momentum * buf + (1 - dampening) * g  (buf = g on the first step);
//   g = nesterov ? g + momentum * buf : buf;  p -= lr * g
#pragma once

#include "optim/optimizer.h"

namespace tg::optim {

struct SGDOptions {
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SGDOptions options = {});
  SGD(std::vector<Tensor> params, double lr, SGDOptions options = {}, double weight_decay = 0.0)
      : SGD({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const SGDOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

}  // namespace tg::optim
