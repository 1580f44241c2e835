// tapegrad/ops/onednn_matmul.cc: float32 products as oneDNN matmul primitives (its brgemm
// kernels), built once per (transposes, sizes, leading dimensions) as in Note [oneDNN primitive
// cache] (ops/internal/onednn.h). Transposes and leading dimensions become the
// strides of the memory descriptors, so nothing is copied. At most kMaxPrimitives shapes are
// kept: a program that multiplies ever new shapes falls back to the caller's library instead of
// growing the cache without bound. PackedMatmul is the product of Note [Repeated products]
// (ops/blas.h): its B reordered once into the layout the primitive chooses.
#include "ops/internal/onednn_matmul.h"

#include <tuple>

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/blas.h"
#include "ops/internal/onednn.h"

namespace tg::ops::onednn {

namespace {

using dnnl::memory;

constexpr size_t kMaxPrimitives = 256;

struct Entry {
  dnnl::matmul primitive;
  memory::desc a, b, c, scratchpad;
};

using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

// A rows x cols matrix stored row-major with leading dimension ld, or its transpose (stored
// cols x rows).
memory::desc matrix(int64_t rows, int64_t cols, bool transposed, int64_t ld) {
  return memory::desc({rows, cols}, memory::data_type::f32, transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

PrimitiveCache<Key, Entry>& cache() {
  static auto* c = new PrimitiveCache<Key, Entry>(kMaxPrimitives);
  return *c;
}

Entry build(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
  const memory::desc a = matrix(m, k, ta, lda), b = matrix(k, n, tb, ldb), c = matrix(m, n, false, ldc);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), user_scratchpad(), engine());
  return {dnnl::matmul(pd), a, b, c, pd.scratchpad_desc()};
}

}  // namespace

bool matmul(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
            int64_t ldb, float* c, int64_t ldc) {
  const Entry* e =
      cache().get({ta, tb, m, n, k, lda, ldb, ldc}, [&] { return build(ta, tb, m, n, k, lda, ldb, ldc); });
  if (e == nullptr) return false;
  const Array scratch = buffer(e->scratchpad.get_size());
  dnnl::stream& s = stream();
  const dnnl::engine& eng = engine();
  e->primitive.execute(s, {{DNNL_ARG_SRC, memory(e->a, eng, const_cast<float*>(a))},
                           {DNNL_ARG_WEIGHTS, memory(e->b, eng, const_cast<float*>(b))},
                           {DNNL_ARG_DST, memory(e->c, eng, c)},
                           {DNNL_ARG_SCRATCHPAD, memory(e->scratchpad, eng, scratch.raw_data())}});
  s.wait();
  return true;
}

PackedMatmul::PackedMatmul(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                           int64_t ldb, float* c, int64_t ldc) {
  const memory::desc a_desc = matrix(m, k, false, lda), b_desc = matrix(k, n, true, ldb),
                     c_desc = matrix(m, n, false, ldc);
  const memory::desc any({k, n}, memory::data_type::f32, memory::format_tag::any);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc, any, c_desc), user_scratchpad(), engine());
  primitive_ = dnnl::matmul(pd);
  const dnnl::engine& eng = engine();
  packed_b_ = buffer(pd.weights_desc().get_size());
  scratch_ = buffer(pd.scratchpad_desc().get_size());
  memory user_b(b_desc, eng, const_cast<float*>(b)), packed(pd.weights_desc(), eng, packed_b_.raw_data());
  dnnl::reorder(user_b, packed).execute(stream(), user_b, packed);
  stream().wait();
  args_ = {{DNNL_ARG_SRC, memory(a_desc, eng, const_cast<float*>(a))},
           {DNNL_ARG_WEIGHTS, packed},
           {DNNL_ARG_DST, memory(c_desc, eng, c)},
           {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), eng, scratch_.raw_data())}};
}

void PackedMatmul::run() {
  primitive_.execute(stream(), args_);
  stream().wait();
}

}  // namespace tg::ops::onednn

namespace tg::ops {

int64_t fast_matmul_primitives_built() { return static_cast<int64_t>(onednn::cache().size()); }

}  // namespace tg::ops
