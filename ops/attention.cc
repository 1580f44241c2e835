// tapegrad/ops/attention.cc: attention as two GEMMs and a row softmax per batch entry (forward),
// four GEMMs and the softmax adjoint (backward), the entries spread over the threads when there
// are enough of them (Note [Attention over the batch]). Causal rows stop at their diagonal.
#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/blas.h"
#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

void check_shapes(const Array& q, const Array& k, const Array& v, const char* op) {
  TG_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, op, ": expected [B, L, E] tensors, got ", shape_str(q.shape()),
           ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
  TG_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0) && k.size(2) == q.size(2) && v.size(1) == k.size(1), op,
           ": query ", shape_str(q.shape()), ", key ", shape_str(k.shape()), " and value ", shape_str(v.shape()),
           " do not fit");
  TG_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), op, ": query, key and value must share a dtype");
}

// Note [Attention over the batch]: with at least two entries per thread (heads x batch), each
// thread takes whole entries (its GEMMs run on it alone inside the region, its softmax rows
// stay in its cache); otherwise each entry's GEMMs and rows are threaded in turn. Either way
// an entry's result does not depend on the thread count.
bool spread_over_entries(int64_t batch, int64_t l, int64_t s) {
  if (batch < 2 * get_num_threads() || batch * l * s < 16384) return false;
  refresh_team_size();
  return true;
}

}  // namespace

AttentionForward attention_forward(const Array& q_in, const Array& k_in, const Array& v_in, const Array& mask_in,
                                   bool causal, double scale) {
  check_shapes(q_in, k_in, v_in, "scaled_dot_product_attention");
  const int64_t batch = q_in.size(0), l = q_in.size(1), e = q_in.size(2), s = k_in.size(1), ev = v_in.size(2);
  const Shape scores{batch, l, s};
  TG_CHECK(!mask_in.defined() || (mask_in.shape() == scores && mask_in.dtype() == q_in.dtype()),
           "scaled_dot_product_attention: mask ", shape_str(mask_in.shape()), " should be ", shape_str(scores));
  const Array q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const Array mask = mask_in.defined() ? mask_in.contiguous() : Array();
  AttentionForward r{Array::empty({batch, l, ev}, q.dtype()), Array::empty({batch, l, s}, q.dtype())};
  dispatch_floating(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    const auto softmax_row = internal::vector_kernels<T>().softmax_row;
    // Row i of entry b: scores += mask, softmax over the columns it may see (a row with every
    // score -inf has no distribution: NaN, as PyTorch's softmax gives), zeros past them.
    auto softmax_rows = [&](int64_t b, int64_t i0, int64_t i1) {
      T* p = r.probs.data<T>() + b * l * s;
      const T* m = mask.defined() ? mask.data<T>() + b * l * s : nullptr;
      for (int64_t i = i0; i < i1; ++i) {
        T* row = p + i * s;
        const int64_t end = causal ? std::min(s, i + 1) : s;
        if (m) {
          for (int64_t j = 0; j < end; ++j) row[j] += m[i * s + j];
        }
        softmax_row(false, row, row, end);
        std::fill(row + end, row + s, T(0));
      }
    };
    auto scores = [&](int64_t b) {
      gemm(false, true, l, s, e, static_cast<T>(scale), q.data<T>() + b * l * e, e, k.data<T>() + b * s * e, e, T(0),
           r.probs.data<T>() + b * l * s, s);
    };
    auto output = [&](int64_t b) {
      gemm(false, false, l, ev, s, T(1), r.probs.data<T>() + b * l * s, s, v.data<T>() + b * s * ev, ev, T(0),
           r.out.data<T>() + b * l * ev, ev);
    };
    if (spread_over_entries(batch, l, s)) {  // Note [Attention over the batch]
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < batch; ++b) {
        scores(b);
        softmax_rows(b, 0, l);
        output(b);
      }
      return;
    }
    for (int64_t b = 0; b < batch; ++b) {
      scores(b);
#pragma omp parallel for schedule(static) if (l * s >= 16384)
      for (int64_t i = 0; i < l; ++i) softmax_rows(b, i, i + 1);
      output(b);
    }
  });
  return r;
}

AttentionGrads attention_backward(const Array& grad_in, const Array& q_in, const Array& k_in, const Array& v_in,
                                  const Array& probs_in, double scale, bool want_dscores) {
  check_shapes(q_in, k_in, v_in, "scaled_dot_product_attention backward");
  const int64_t batch = q_in.size(0), l = q_in.size(1), e = q_in.size(2), s = k_in.size(1), ev = v_in.size(2);
  const Shape want_grad{batch, l, ev}, want_probs{batch, l, s};
  TG_CHECK(grad_in.shape() == want_grad && probs_in.shape() == want_probs,
           "scaled_dot_product_attention backward: gradient ", shape_str(grad_in.shape()), " or probabilities ",
           shape_str(probs_in.shape()), " do not fit");
  const Array g = grad_in.contiguous(), q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous(),
              p = probs_in.contiguous();
  AttentionGrads r{Array::empty(q.shape(), q.dtype()), Array::empty(k.shape(), q.dtype()),
                   Array::empty(v.shape(), q.dtype()), want_dscores ? Array::empty({batch, l, s}, q.dtype()) : Array()};
  dispatch_floating(q.dtype(), "scaled_dot_product_attention backward", [&](auto tag) {
    using T = decltype(tag);
    // dS of entry b goes to r.dscores when asked for, else to `ds_scratch` (l * s values).
    auto entry = [&](int64_t b, T* ds_scratch, bool parallel_rows) {
      const T* pb = p.data<T>() + b * l * s;
      const T* gb = g.data<T>() + b * l * ev;
      T* ds = want_dscores ? r.dscores.data<T>() + b * l * s : ds_scratch;
      gemm(true, false, s, ev, l, T(1), pb, s, gb, ev, T(0), r.dv.data<T>() + b * s * ev, ev);  // dV = P^T dO
      gemm(false, true, l, s, ev, T(1), gb, ev, v.data<T>() + b * s * ev, ev, T(0), ds, s);    // dP = dO V^T
#pragma omp parallel for schedule(static) if (parallel_rows && l * s >= 16384)
      for (int64_t i = 0; i < l; ++i) {  // dS = P * (dP - sum_j dP P)
        const T* prow = pb + i * s;
        T* row = ds + i * s;
        T dot = 0;
        for (int64_t j = 0; j < s; ++j) dot += row[j] * prow[j];
        for (int64_t j = 0; j < s; ++j) row[j] = prow[j] * (row[j] - dot);
      }
      const T sc = static_cast<T>(scale);
      gemm(false, false, l, e, s, sc, ds, s, k.data<T>() + b * s * e, e, T(0), r.dq.data<T>() + b * l * e, e);
      gemm(true, false, s, e, l, sc, ds, s, q.data<T>() + b * l * e, e, T(0), r.dk.data<T>() + b * s * e, e);
    };
    if (spread_over_entries(batch, l, s)) {  // Note [Attention over the batch]
#pragma omp parallel
      {
        std::vector<T> scratch(want_dscores ? 0 : l * s);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < batch; ++b) entry(b, scratch.data(), false);
      }
      return;
    }
    std::vector<T> scratch(want_dscores ? 0 : l * s);
    for (int64_t b = 0; b < batch; ++b) entry(b, scratch.data(), true);
  });
  return r;
}

}  // namespace tg::ops
