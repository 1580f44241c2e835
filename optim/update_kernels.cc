// tapegrad/optim/update_kernels.cc: the optimizers' update loops (update_kernels.h), compiled once
// per ISA level by cc_multi_isa_library (which defines TG_ISA_SUFFIX and TG_ISA_LEVEL). The
// formulas are PyTorch's (torch.optim), evaluated in the parameter's precision.
#include "optim/update_kernels.h"

#include <algorithm>
#include <cmath>

#if !defined(TG_ISA_SUFFIX) || !defined(TG_ISA_LEVEL)
#error "update_kernels.cc is compiled by cc_multi_isa_library, which defines TG_ISA_SUFFIX and TG_ISA_LEVEL"
#endif

namespace tg::optim::internal {

namespace {

template <typename T>
void adam(const AdamConstants& c, T* p, const T* g, T* m, T* v, T* vmax, int64_t n) {
  const T b1 = c.beta1, b2 = c.beta2, eps = c.eps, l2 = c.l2, decay = c.decay, ss = c.step_size, b2s = c.bias2_sqrt;
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
}

template <typename T>
void sgd(const SgdConstants& c, T* p, const T* g, T* buf, int64_t n) {
  const T lr = c.lr, wd = c.weight_decay, mom = c.momentum, damp = c.dampening;
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i] + wd * p[i];
    if (buf) {
      buf[i] = c.first ? d : mom * buf[i] + (T(1) - damp) * d;
      d = c.nesterov ? d + mom * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

template <typename T>
void rmsprop(const RmspropConstants& c, T* p, const T* g, T* sq, T* ga, T* buf, int64_t n) {
  const T alpha = c.alpha, eps = c.eps, mom = c.momentum, lr = c.lr, wd = c.weight_decay;
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
}

template <typename T>
constexpr UpdateKernels<T> kernels_of() {
  return {&adam<T>, &sgd<T>, &rmsprop<T>};
}

}  // namespace

const UpdateKernelTable TG_ISA_VARIANT(update_kernels) = {static_cast<CpuIsa>(TG_ISA_LEVEL), kernels_of<float>(),
                                                          kernels_of<double>()};

}  // namespace tg::optim::internal
