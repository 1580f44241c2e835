// tapegrad/ops/internal/channel_kernels.h: the per-channel loops of batch norm over channels-last
// rows ([rows, c] in memory, Note [Channels last] in ops/array.cc), compiled once per ISA level
// like vector_kernels.h and chosen at run time. They vectorize across the c channels of a row, so
// each channel's arithmetic (and its sum's row order) is the same at every level, and the file is
// compiled without floating-point contraction: every level gives the baseline's bits. Each runs
// on the calling thread over the rows it is given; ops/batch_norm.cc splits rows over threads.
#pragma once

#include <cstdint>

#include "ops/cpu_isa.h"

namespace tg::ops::internal {

template <typename T>
struct ChannelKernels {
  // For each channel ch, over rows r (in order): with u = a[r, ch] - a_shift[ch] (a_shift null:
  // 0) and v = x[r, ch] - x_shift[ch], first[ch] += u and second[ch] += u * v.
  void (*sums)(const T* a, const T* a_shift, const T* x, const T* x_shift, int64_t rows, int64_t c, T* first,
               T* second);
  // out[r, ch] = x[r, ch] * scale[ch] + shift[ch].
  void (*affine)(const T* x, const T* scale, const T* shift, int64_t rows, int64_t c, T* out);
  // out[r, ch] = a[ch] * g[r, ch] + b[ch] * (x[r, ch] - mean[ch]) + d[ch] (batch norm's input
  // gradient, Note [batch_norm backward] in autograd/functions/norm.cc).
  void (*input_gradient)(const T* g, const T* x, const T* a, const T* b, const T* mean, const T* d, int64_t rows,
                         int64_t c, T* out);
};

using ChannelKernelTable = PerIsaKernels<ChannelKernels>;
TG_DECLARE_PER_ISA_KERNELS(ChannelKernels, channel_kernels)

}  // namespace tg::ops::internal
