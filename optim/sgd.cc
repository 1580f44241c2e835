// tapegrad/optim/sgd.cc: one fused pass over each parameter.
#include "optim/sgd.h"

namespace tg::optim {

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions o) : Optimizer(std::move(groups), "SGD"), options(o) {
  TG_CHECK(o.momentum >= 0, "SGD: momentum must be >= 0, got ", o.momentum);
  TG_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD: nesterov needs momentum > 0 and dampening 0");
}

void SGD::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const bool first = !state.buffers.count("momentum_buffer");  // the buffer starts as the first gradient
  dispatch_floating(param.dtype(), "SGD", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* buf = options.momentum != 0 ? state.buffer("momentum_buffer", param).data_ptr<T>() : nullptr;
    const T lr = group.lr, wd = group.weight_decay, mom = options.momentum, damp = options.dampening;
    const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t i = 0; i < n; ++i) {
      T d = g[i] + wd * p[i];
      if (buf) {
        buf[i] = first ? d : mom * buf[i] + (T(1) - damp) * d;
        d = options.nesterov ? d + mom * buf[i] : buf[i];
      }
      p[i] -= lr * d;
    }
  });
}

}  // namespace tg::optim
