// tapegrad/optim/rmsprop.cc: one fused pass over each parameter.
#include "optim/rmsprop.h"

#include <cmath>

#include "ops/parallel.h"
#include "optim/update_kernels.h"

namespace tg::optim {

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions o) : Optimizer(std::move(groups), "RMSprop"), options(o) {
  TG_CHECK(o.alpha >= 0 && o.alpha <= 1, "RMSprop: alpha must be in [0, 1], got ", o.alpha);
  TG_CHECK(o.momentum >= 0 && o.eps >= 0, "RMSprop: momentum and eps must be >= 0");
}

void RMSprop::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const internal::RmspropConstants c{options.alpha, options.eps, options.momentum, group.lr, group.weight_decay};
  dispatch_floating(param.dtype(), "RMSprop", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* sq = state.buffer("square_avg", param).data_ptr<T>();
    T* ga = options.centered ? state.buffer("grad_avg", param).data_ptr<T>() : nullptr;
    T* buf = options.momentum > 0 ? state.buffer("momentum_buffer", param).data_ptr<T>() : nullptr;
    const auto kernel = internal::update_kernels<T>().rmsprop;
    ops::parallel_chunks(param.numel(), internal::kUpdateParallelGrain, [&](int64_t begin, int64_t end) {
      kernel(c, p + begin, g + begin, sq + begin, ga ? ga + begin : nullptr, buf ? buf + begin : nullptr,
             end - begin);
    });
  });
}

}  // namespace tg::optim
