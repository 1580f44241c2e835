// tapegrad/optim/update_kernels_test.cc: every ISA level of the optimizers' update kernels this CPU
// can run gives the baseline's parameters and state after several steps (within a few ulps: the
// AVX2 and AVX-512 levels may fuse multiply-adds), for every option variant. The kernels'
// formulas are checked against PyTorch by //optim:optim_test.
#include "optim/update_kernels.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tg::optim::internal {
namespace {

// 1000 + 37 values (vector remainders run): offset + |N(0, scale)| when positive, else N(0, scale)
// with zeros among them.
template <typename T>
std::vector<T> values(uint32_t seed, double scale, double positive_offset = -1) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0, scale);
  std::vector<T> v(1037);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<T>(positive_offset >= 0 ? positive_offset + std::abs(normal(gen)) : normal(gen));
  }
  if (positive_offset < 0) {
    for (size_t i = 0; i < v.size(); i += 97) v[i] = 0;
  }
  return v;
}

// The state a kernel updates in place: parameter and up to three buffers. b (a second moment) stays
// well above a^2 (a first moment), as in training, so centered RMSprop's sqrt(b - a^2) is well
// conditioned.
template <typename T>
struct State {
  std::vector<T> p = values<T>(1, 1), a = values<T>(2, 0.1), b = values<T>(3, 0.01, 0.1), c = values<T>(4, 0.1, 0);
};

template <typename T>
void expect_close(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  // A fused multiply-add rounds once where the baseline rounds twice: near a cancellation (a moment
  // decaying through zero) the difference is ulps of the terms, not of the result, so the bound is
  // ulps of the element plus ulps of the vector's largest magnitude.
  const T eps = std::numeric_limits<T>::epsilon();
  T scale = 0;
  for (T w : want) scale = std::isfinite(w) ? std::max(scale, std::abs(w)) : scale;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    ASSERT_LE(std::abs(got[i] - want[i]), 8 * eps * (std::abs(want[i]) + scale)) << what << " at " << i;
  }
}

// Runs `steps` updates of the same gradients at every level and compares with the baseline.
template <typename T>
void check(const std::string& what, const std::function<void(const UpdateKernels<T>&, State<T>&, const T*)>& step) {
  const std::vector<T> grad = values<T>(5, 0.5);
  State<T> want;
  for (int s = 0; s < 5; ++s) step(update_kernels<T>(CpuIsa::kBaseline), want, grad.data());
  for (CpuIsa isa : runnable_cpu_isas()) {
    ASSERT_EQ(update_kernels_table(isa).isa, isa);
    State<T> got;
    for (int s = 0; s < 5; ++s) step(update_kernels<T>(isa), got, grad.data());
    const std::string at = what + " at " + cpu_isa_name(isa);
    expect_close(got.p, want.p, at + " parameter");
    expect_close(got.a, want.a, at + " buffer 1");
    expect_close(got.b, want.b, at + " buffer 2");
    expect_close(got.c, want.c, at + " buffer 3");
  }
}

template <typename T>
void check_all() {
  const int64_t n = 1037;
  for (bool amsgrad : {false, true}) {
    for (bool decoupled : {false, true}) {
      const AdamConstants c{0.9, 0.999, 1e-8, decoupled ? 0.0 : 0.01, decoupled ? 1 - 1e-3 * 0.01 : 1.0, 1e-3 / 0.1,
                            std::sqrt(0.002)};
      check<T>("adam amsgrad=" + std::to_string(amsgrad) + " decoupled=" + std::to_string(decoupled),
               [&](const UpdateKernels<T>& k, State<T>& s, const T* g) {
                 k.adam(c, s.p.data(), g, s.a.data(), s.b.data(), amsgrad ? s.c.data() : nullptr, n);
               });
    }
  }
  for (bool momentum : {false, true}) {
    for (bool nesterov : {false, true}) {
      if (nesterov && !momentum) continue;
      check<T>("sgd momentum=" + std::to_string(momentum) + " nesterov=" + std::to_string(nesterov),
               [&](const UpdateKernels<T>& k, State<T>& s, const T* g) {
                 const SgdConstants c{0.05, 1e-4, momentum ? 0.9 : 0.0, 0.0, nesterov, /*first=*/false};
                 k.sgd(c, s.p.data(), g, momentum ? s.a.data() : nullptr, n);
               });
    }
  }
  for (bool centered : {false, true}) {
    for (bool momentum : {false, true}) {
      check<T>("rmsprop centered=" + std::to_string(centered) + " momentum=" + std::to_string(momentum),
               [&](const UpdateKernels<T>& k, State<T>& s, const T* g) {
                 const RmspropConstants c{0.99, 1e-8, momentum ? 0.9 : 0.0, 0.01, 1e-4};
                 k.rmsprop(c, s.p.data(), g, s.b.data(), centered ? s.a.data() : nullptr, momentum ? s.c.data() : nullptr, n);
               });
    }
  }
}

TEST(UpdateKernels, LevelsAgreeFloat) { check_all<float>(); }
TEST(UpdateKernels, LevelsAgreeDouble) { check_all<double>(); }

}  // namespace
}  // namespace tg::optim::internal
