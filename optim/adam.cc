// tapegrad/optim/adam.cc: one fused pass over each parameter.
#include "optim/adam.h"

#include <cmath>

namespace tg::optim {

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions o, bool decoupled)
    : Optimizer(std::move(groups), decoupled ? "AdamW" : "Adam"), options(o), decoupled_weight_decay(decoupled) {
  TG_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, name(), ": betas must be in [0, 1), got (",
           o.beta1, ", ", o.beta2, ")");
  TG_CHECK(o.eps >= 0, name(), ": eps must be >= 0, got ", o.eps);
}

void Adam::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const double t = static_cast<double>(state.step);
  const double bias1 = 1 - std::pow(options.beta1, t), bias2 = 1 - std::pow(options.beta2, t);
  const double step_size = group.lr / bias1, bias2_sqrt = std::sqrt(bias2);
  dispatch_floating(param.dtype(), name(), [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* m = state.buffer("exp_avg", param).data_ptr<T>();
    T* v = state.buffer("exp_avg_sq", param).data_ptr<T>();
    T* vmax = options.amsgrad ? state.buffer("max_exp_avg_sq", param).data_ptr<T>() : nullptr;
    const T b1 = options.beta1, b2 = options.beta2, eps = options.eps, wd = group.weight_decay;
    const T decay = decoupled_weight_decay ? T(1) - static_cast<T>(group.lr) * wd : T(1);
    const T l2 = decoupled_weight_decay ? T(0) : wd;
    const T ss = step_size, b2s = bias2_sqrt;
    const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t i = 0; i < n; ++i) {
      const T d = g[i] + l2 * p[i];
      p[i] *= decay;
      m[i] = b1 * m[i] + (T(1) - b1) * d;
      v[i] = b2 * v[i] + (T(1) - b2) * d * d;
      T second = v[i];
      if (vmax) {
        vmax[i] = std::max(vmax[i], v[i]);
        second = vmax[i];
      }
      p[i] -= ss * m[i] / (std::sqrt(second) / b2s + eps);
    }
  });
}

}  // namespace tg::optim
