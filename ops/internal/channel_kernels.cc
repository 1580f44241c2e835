// tapegrad/ops/internal/channel_kernels.cc: the per-ISA batch-norm channel loops
// (channel_kernels.h). Compiled once per ISA level and with -ffp-contract=off (ops/BUILD.bazel),
// so the AVX2 and AVX-512 levels round exactly as the baseline does.
#include "ops/internal/channel_kernels.h"

#if !defined(TG_ISA_SUFFIX) || !defined(TG_ISA_LEVEL)
#error "channel_kernels.cc is compiled by cc_multi_isa_library, which defines TG_ISA_SUFFIX and TG_ISA_LEVEL"
#endif

namespace tg::ops::internal {

namespace {

template <typename T, bool kShiftA>
void sums_loop(const T* __restrict a, const T* __restrict a_shift, const T* __restrict x,
               const T* __restrict x_shift, int64_t rows, int64_t c, T* __restrict first, T* __restrict second) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict ar = a + r * c;
    const T* __restrict xr = x + r * c;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      const T u = kShiftA ? ar[ch] - a_shift[ch] : ar[ch];
      first[ch] += u;
      second[ch] += u * (xr[ch] - x_shift[ch]);
    }
  }
}

template <typename T>
void sums(const T* a, const T* a_shift, const T* x, const T* x_shift, int64_t rows, int64_t c, T* first, T* second) {
  if (a_shift != nullptr) {
    sums_loop<T, true>(a, a_shift, x, x_shift, rows, c, first, second);
  } else {
    sums_loop<T, false>(a, a_shift, x, x_shift, rows, c, first, second);
  }
}

template <typename T>
void affine(const T* __restrict x, const T* __restrict scale, const T* __restrict shift, int64_t rows, int64_t c,
            T* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) out[r * c + ch] = x[r * c + ch] * scale[ch] + shift[ch];
  }
}

template <typename T>
void input_gradient(const T* __restrict g, const T* __restrict x, const T* __restrict a, const T* __restrict b,
                    const T* __restrict mean, const T* __restrict d, int64_t rows, int64_t c, T* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t at = r * c + ch;
      out[at] = a[ch] * g[at] + b[ch] * (x[at] - mean[ch]) + d[ch];
    }
  }
}

template <typename T>
constexpr ChannelKernels<T> kernels_of() {
  return {&sums<T>, &affine<T>, &input_gradient<T>};
}

}  // namespace

const ChannelKernelTable TG_ISA_VARIANT(channel_kernels) = {static_cast<CpuIsa>(TG_ISA_LEVEL), kernels_of<float>(),
                                                            kernels_of<double>()};

}  // namespace tg::ops::internal
