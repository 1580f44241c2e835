// tapegrad/ops/internal/vector_kernels.h: the inner loops that dominate training time, compiled
// once per ISA level (cc_multi_isa_library in build_defs.bzl; Note [Portable binaries] in
// ops/cpu_isa.h) and chosen at run time. Each works on contiguous memory, allocates nothing and
// runs on the calling thread: callers split the work over threads (ops/parallel.h). Callers:
// elementwise.cc (contiguous float unary and binary ops), pool.cc, softmax.cc, reduce.cc.
#pragma once

#include <cstdint>

#include "ops/cpu_isa.h"
#include "ops/elementwise_ops.h"

namespace tg::ops::internal {

template <typename T>
struct VectorKernels {
  // out[i] = op(x[i]) for i < n (the expressions of TG_UNARY_OPS).
  void (*unary)(UnaryOp op, const T* x, T* out, int64_t n);
  // out[i] = op(a[i], b[i]) for i < n (TG_BINARY_OPS).
  void (*binary)(BinaryOp op, const T* a, const T* b, T* out, int64_t n);
  // One output row of the 2x2/2 max pool from input rows r0 and r1 (flat offsets top and bottom
  // within the plane): out[x] is the maximum of the window at column 2x, index[x] (skipped when
  // index is null) its flat offset. The first maximum wins; a NaN wins (the last NaN).
  void (*max_pool_2x2_row)(const T* r0, const T* r1, int64_t top, int64_t bottom, int64_t ow, T* out,
                           int64_t* index);
  // Softmax (log-softmax when log) of one contiguous row of n values, max-shifted.
  void (*softmax_row)(bool log, const T* in, T* out, int64_t n);
  // out[j], j in [j0, j1), of the sum of a contiguous [a, k, b] over a and b (sum_loops.h).
  void (*sum_outer_and_inner)(const T* x, int64_t a, int64_t k, int64_t b, int64_t j0, int64_t j1, T* out);
};

using VectorKernelTable = PerIsaKernels<VectorKernels>;
TG_DECLARE_PER_ISA_KERNELS(VectorKernels, vector_kernels)

}  // namespace tg::ops::internal
