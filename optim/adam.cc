// tapegrad/optim/adam.cc: one fused pass over each parameter.
#include "optim/adam.h"

#include <cmath>

#include "ops/parallel.h"
#include "optim/update_kernels.h"

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
  const double wd = group.weight_decay;
  const internal::AdamConstants c{options.beta1, options.beta2, options.eps,
                                  /*l2=*/decoupled_weight_decay ? 0.0 : wd,
                                  /*decay=*/decoupled_weight_decay ? 1 - group.lr * wd : 1.0, step_size, bias2_sqrt};
  dispatch_floating(param.dtype(), name(), [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* m = state.buffer("exp_avg", param).data_ptr<T>();
    T* v = state.buffer("exp_avg_sq", param).data_ptr<T>();
    T* vmax = options.amsgrad ? state.buffer("max_exp_avg_sq", param).data_ptr<T>() : nullptr;
    const auto kernel = internal::update_kernels<T>().adam;
    ops::parallel_chunks(param.numel(), internal::kUpdateParallelGrain, [&](int64_t begin, int64_t end) {
      kernel(c, p + begin, g + begin, m + begin, v + begin, vmax ? vmax + begin : nullptr, end - begin);
    });
  });
}

}  // namespace tg::optim
