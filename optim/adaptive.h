// tapegrad/optim/adaptive.h: the other adaptive-rate optimizers of torch.optim, with its update
// rules (PyTorch 1.13, single-tensor form) and defaults:
//   Adagrad  (lr 1e-2): sum += g^2; p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)
//   Adadelta (lr 1.0):  sq = rho sq + (1 - rho) g^2; d = sqrt(acc + eps) / sqrt(sq + eps) g;
//                       acc = rho acc + (1 - rho) d^2; p -= lr d
//   Adamax   (lr 2e-3): m = b1 m + (1 - b1) g; u = max(b2 u, |g| + eps); p -= lr / (1 - b1^t) m / u
//   NAdam    (lr 2e-3): Adam's moments with Nesterov momentum and the momentum_decay schedule
//   RAdam    (lr 1e-3): Adam rectified by the variance of the adaptive rate (plain momentum SGD
//                       while rho_t <= 5)
// Weight decay adds wd * p to the gradient (L2), as torch.optim does for these five.
#pragma once

#include "optim/optimizer.h"

namespace tg::optim {

struct AdagradOptions {
  double lr_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions options = {});
  Adagrad(std::vector<Tensor> params, double lr = 1e-2, AdagradOptions options = {}, double weight_decay = 0.0)
      : Adagrad({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const AdagradOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

struct AdadeltaOptions {
  double rho = 0.9;
  double eps = 1e-6;
};

class Adadelta : public Optimizer {
 public:
  Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions options = {});
  Adadelta(std::vector<Tensor> params, double lr = 1.0, AdadeltaOptions options = {}, double weight_decay = 0.0)
      : Adadelta({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const AdadeltaOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

// Adamax, NAdam and RAdam share Adam's betas and eps.
struct AdamaxOptions {
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

class Adamax : public Optimizer {
 public:
  Adamax(std::vector<ParamGroup> groups, AdamaxOptions options = {});
  Adamax(std::vector<Tensor> params, double lr = 2e-3, AdamaxOptions options = {}, double weight_decay = 0.0)
      : Adamax({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const AdamaxOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

struct NAdamOptions {
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double momentum_decay = 4e-3;
};

class NAdam : public Optimizer {
 public:
  NAdam(std::vector<ParamGroup> groups, NAdamOptions options = {});
  NAdam(std::vector<Tensor> params, double lr = 2e-3, NAdamOptions options = {}, double weight_decay = 0.0)
      : NAdam({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const NAdamOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

struct RAdamOptions {
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

class RAdam : public Optimizer {
 public:
  RAdam(std::vector<ParamGroup> groups, RAdamOptions options = {});
  RAdam(std::vector<Tensor> params, double lr = 1e-3, RAdamOptions options = {}, double weight_decay = 0.0)
      : RAdam({ParamGroup{std::move(params), lr, weight_decay}}, options) {}
  const RAdamOptions options;

 protected:
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

}  // namespace tg::optim
