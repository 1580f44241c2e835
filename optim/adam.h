// tapegrad/optim/adam.h: Adam (L2 weight decay added to the gradient, optional AMSGrad) and
// AdamW (decoupled weight decay), with PyTorch's update rule:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) (amsgrad)
//   p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
//   AdamW first does p *= 1 - lr * wd.
#pragma once

#include "optim/optimizer.h"

namespace tg::optim {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {}, bool decoupled_weight_decay = false);
  Adam(std::vector<Tensor> params, double lr = 1e-3, AdamOptions options = {}, double weight_decay = 0.0)
      : Adam({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const AdamOptions options;
  const bool decoupled_weight_decay;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

// AdamW: PyTorch's default weight decay for AdamW is 0.01.
class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamOptions options = {}) : Adam(std::move(groups), options, true) {}
  AdamW(std::vector<Tensor> params, double lr = 1e-3, AdamOptions options = {}, double weight_decay = 0.01)
      : AdamW({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
};

}  // namespace tg::optim
