// tapegrad/ops/attention_test.cc: the attention kernels against a plain double-precision
// reference, forward and backward, causal and masked, both for many entries (spread over the
// threads, Note [Attention over the batch]) and for one large entry (its rows threaded).
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "ops/attention.h"
#include "ops/testing/random_array.h"

namespace tg::ops {
namespace {

using testing::random_array;

struct Reference {
  std::vector<double> out, dq, dk, dv;
};

// softmax(scale q k^T + mask, causal) v and its gradients for the output gradient g, in double.
Reference reference(const Array& q, const Array& k, const Array& v, const Array& mask, bool causal, double scale,
                    const Array& g) {
  const int64_t batch = q.size(0), l = q.size(1), e = q.size(2), s = k.size(1), ev = v.size(2);
  auto at = [](const Array& a, int64_t b, int64_t i, int64_t j) {
    return static_cast<double>(a.data<float>()[(b * a.size(1) + i) * a.size(2) + j]);
  };
  Reference r{std::vector<double>(batch * l * ev), std::vector<double>(batch * l * e),
              std::vector<double>(batch * s * e), std::vector<double>(batch * s * ev)};
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> p(l * s, 0.0), dp(l * s, 0.0);
    for (int64_t i = 0; i < l; ++i) {
      const int64_t end = causal ? std::min(s, i + 1) : s;
      double mx = -INFINITY, total = 0;
      for (int64_t j = 0; j < end; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < e; ++c) dot += at(q, b, i, c) * at(k, b, j, c);
        p[i * s + j] = scale * dot + (mask.defined() ? at(mask, b, i, j) : 0.0);
        mx = std::max(mx, p[i * s + j]);
      }
      for (int64_t j = 0; j < end; ++j) total += (p[i * s + j] = std::exp(p[i * s + j] - mx));
      for (int64_t j = 0; j < end; ++j) p[i * s + j] /= total;
      for (int64_t c = 0; c < ev; ++c)
        for (int64_t j = 0; j < s; ++j) r.out[(b * l + i) * ev + c] += p[i * s + j] * at(v, b, j, c);
    }
    for (int64_t i = 0; i < l; ++i) {
      double rowdot = 0;
      for (int64_t j = 0; j < s; ++j) {
        for (int64_t c = 0; c < ev; ++c) {
          dp[i * s + j] += at(g, b, i, c) * at(v, b, j, c);
          r.dv[(b * s + j) * ev + c] += p[i * s + j] * at(g, b, i, c);
        }
        rowdot += dp[i * s + j] * p[i * s + j];
      }
      for (int64_t j = 0; j < s; ++j) {
        const double ds = p[i * s + j] * (dp[i * s + j] - rowdot) * scale;
        for (int64_t c = 0; c < e; ++c) {
          r.dq[(b * l + i) * e + c] += ds * at(k, b, j, c);
          r.dk[(b * s + j) * e + c] += ds * at(q, b, i, c);
        }
      }
    }
  }
  return r;
}

void expect_close(const Array& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  double scale = 0, gap = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    gap = std::max(gap, std::abs(got.data<float>()[i] - want[i]));
  }
  EXPECT_LT(gap, 1e-5 * (1 + scale)) << what;
}

void check(int64_t batch, int64_t l, int64_t s, bool causal, bool masked) {
  const int64_t e = 8, ev = 5;
  const Array q = random_array({batch, l, e}, 1), k = random_array({batch, s, e}, 2), v = random_array({batch, s, ev}, 3);
  const Array g = random_array({batch, l, ev}, 4);
  const Array mask = masked ? random_array({batch, l, s}, 5) : Array();
  const double scale = 0.3;
  const Reference want = reference(q, k, v, mask, causal, scale, g);
  const AttentionForward f = attention_forward(q, k, v, mask, causal, scale);
  expect_close(f.out, want.out, "output");
  const AttentionGrads grads = attention_backward(g, q, k, v, f.probs, scale, false);
  expect_close(grads.dq, want.dq, "dq");
  expect_close(grads.dk, want.dk, "dk");
  expect_close(grads.dv, want.dv, "dv");
}

TEST(Attention, ManyEntriesAgreeWithReference) {
  for (bool causal : {false, true}) check(24, 40, 40, causal, !causal);
  check(24, 33, 50, false, false);
}

TEST(Attention, OneLargeEntryAgreesWithReference) {
  for (bool causal : {false, true}) check(1, 150, 130, causal, !causal);
}

}  // namespace
}  // namespace tg::ops
