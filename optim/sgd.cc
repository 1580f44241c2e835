// tapegrad/optim/sgd.cc: one fused pass over each parameter.
#include "optim/sgd.h"

#include "ops/parallel.h"
#include "optim/update_kernels.h"

namespace tg::optim {

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions o) : Optimizer(std::move(groups), "SGD"), options(o) {
  TG_CHECK(o.momentum >= 0, "SGD: momentum must be >= 0, got ", o.momentum);
  TG_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD: nesterov needs momentum > 0 and dampening 0");
}

void SGD::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const bool first = !state.buffers.count("momentum_buffer");  // the buffer starts as the first gradient
  const internal::SgdConstants c{group.lr, group.weight_decay, options.momentum, options.dampening, options.nesterov,
                                 first};
  dispatch_floating(param.dtype(), "SGD", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* buf = options.momentum != 0 ? state.buffer("momentum_buffer", param).data_ptr<T>() : nullptr;
    const auto kernel = internal::update_kernels<T>().sgd;
    ops::parallel_chunks(param.numel(), internal::kUpdateParallelGrain, [&](int64_t begin, int64_t end) {
      kernel(c, p + begin, g + begin, buf ? buf + begin : nullptr, end - begin);
    });
  });
}

}  // namespace tg::optim
