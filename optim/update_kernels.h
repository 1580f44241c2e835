// tapegrad/optim/update_kernels.h: the optimizers' fused per-element updates over a parameter and
// its state buffers, compiled once per ISA level (cc_multi_isa_library; Note [Portable binaries]
// in ops/cpu_isa.h) and chosen at run time. The optimizers (adam.cc, sgd.cc, rmsprop.cc) compute
// the step's constants and split the elements over threads; a kernel updates [0, n) on its thread.
#pragma once

#include <cstdint>

#include "ops/cpu_isa.h"

namespace tg::optim::internal {

struct AdamConstants {
  double beta1, beta2, eps;
  double l2;     // weight decay added to the gradient (Adam); 0 for AdamW
  double decay;  // 1 - lr * weight_decay (AdamW); 1 for Adam
  double step_size, bias2_sqrt;
};
struct SgdConstants {
  double lr, weight_decay, momentum, dampening;
  bool nesterov;
  bool first;  // the momentum buffer starts as the first gradient
};
struct RmspropConstants {
  double alpha, eps, momentum, lr, weight_decay;
};

template <typename T>
struct UpdateKernels {
  // vmax (AMSGrad) may be null.
  void (*adam)(const AdamConstants& c, T* p, const T* g, T* m, T* v, T* vmax, int64_t n);
  // buf (momentum) may be null.
  void (*sgd)(const SgdConstants& c, T* p, const T* g, T* buf, int64_t n);
  // grad_avg (centered) and buf (momentum) may be null.
  void (*rmsprop)(const RmspropConstants& c, T* p, const T* g, T* square_avg, T* grad_avg, T* buf, int64_t n);
};

using UpdateKernelTable = PerIsaKernels<UpdateKernels>;
TG_DECLARE_PER_ISA_KERNELS(UpdateKernels, update_kernels)

// Parameters with fewer elements are updated on the calling thread.
constexpr int64_t kUpdateParallelGrain = 65536;

}  // namespace tg::optim::internal
