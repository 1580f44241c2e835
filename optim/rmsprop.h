// tapegrad/optim/rmsprop.h: RMSprop with PyTorch's update rule:
//   g += wd * p;  sq = alpha sq + (1 - alpha) g^2;  (centered: ga = alpha ga + (1 - alpha) g,
//   avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps)
//   momentum: buf = momentum buf + g / avg, p -= lr buf;  else p -= lr g / avg
#pragma once

#include "optim/optimizer.h"

namespace tg::optim {

struct RMSpropOptions {
  double alpha = 0.99;
  double eps = 1e-8;
  double momentum = 0.0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options = {});
  RMSprop(std::vector<Tensor> params, double lr = 1e-2, RMSpropOptions options = {}, double weight_decay = 0.0)
      : RMSprop({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const RMSpropOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

}  // namespace tg::optim
