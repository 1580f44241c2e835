// tapegrad/optim/rmsprop.cc: one fused pass over each parameter.
#include "optim/rmsprop.h"

#include <cmath>

namespace tg::optim {

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions o) : Optimizer(std::move(groups), "RMSprop"), options(o) {
  TG_CHECK(o.alpha >= 0 && o.alpha <= 1, "RMSprop: alpha must be in [0, 1], got ", o.alpha);
  TG_CHECK(o.momentum >= 0 && o.eps >= 0, "RMSprop: momentum and eps must be >= 0");
}

void RMSprop::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  dispatch_floating(param.dtype(), "RMSprop", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* sq = state.buffer("square_avg", param).data_ptr<T>();
    T* ga = options.centered ? state.buffer("grad_avg", param).data_ptr<T>() : nullptr;
    T* buf = options.momentum > 0 ? state.buffer("momentum_buffer", param).data_ptr<T>() : nullptr;
    const T alpha = options.alpha, eps = options.eps, mom = options.momentum, lr = group.lr, wd = group.weight_decay;
    const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t i = 0; i < n; ++i) {
      const T d = g[i] + wd * p[i];
      sq[i] = alpha * sq[i] + (T(1) - alpha) * d * d;
      T avg;
      if (ga) {
        ga[i] = alpha * ga[i] + (T(1) - alpha) * d;
        avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
      } else {
        avg = std::sqrt(sq[i]) + eps;
      }
      if (buf) {
        buf[i] = mom * buf[i] + d / avg;
        p[i] -= lr * buf[i];
      } else {
        p[i] -= lr * d / avg;
      }
    }
  });
}

}  // namespace tg::optim
