// tapegrad/ops/blas_test.cc: the GEMM paths agree with a plain double-precision reference for
// every transpose combination, beta and padded leading dimensions: the fast path (oneDNN or
// OpenBLAS by shape, Note [Which float32 GEMM library]) with 1 and 2 threads, and the deterministic
// paths (C tiles, split K), which also give bit-identical results for 1 and 2 threads.
#include "ops/blas.h"

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "ops/parallel.h"

namespace tg::ops {
namespace {

struct GemmCase {
  bool ta, tb;
  int64_t m, n, k;
  float beta;
  int64_t pad = 0;  // added to every leading dimension
  float alpha = 1.5f;
};

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// Row-major storage with the leading dimensions gemm is given (padded by g.pad).
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c0;
};

Operands operands(const GemmCase& g) {
  Operands o;
  o.lda = (g.ta ? g.m : g.k) + g.pad;
  o.ldb = (g.tb ? g.k : g.n) + g.pad;
  o.ldc = g.n + g.pad;
  o.a = random_values((g.ta ? g.k : g.m) * o.lda, 1);
  o.b = random_values((g.tb ? g.n : g.k) * o.ldb, 2);
  // beta 0 must ignore what C holds, even NaN.
  o.c0 = g.beta == 0 ? std::vector<float>(g.m * o.ldc, NAN) : random_values(g.m * o.ldc, 3);
  return o;
}

std::vector<float> run(const GemmCase& g, const Operands& o) {
  std::vector<float> c = o.c0;
  gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, g.beta, c.data(), o.ldc);
  return c;
}

// C = alpha op(A) op(B) + beta C in double ([m, n], row-major), computed once per case: the
// naive loop is most of this test's time (under AddressSanitizer nearly a minute when it ran for
// every thread count).
const std::vector<double>& reference(const GemmCase& g, const Operands& o) {
  static std::map<std::tuple<bool, bool, int64_t, int64_t, int64_t, float, int64_t, float>, std::vector<double>> done;
  std::vector<double>& ref = done[{g.ta, g.tb, g.m, g.n, g.k, g.beta, g.pad, g.alpha}];
  if (!ref.empty() || g.m * g.n == 0) return ref;
  ref.resize(g.m * g.n);
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      double sum = g.beta == 0 ? 0.0 : double(g.beta) * o.c0[i * o.ldc + j];
      for (int64_t p = 0; p < g.k; ++p) {
        const double x = g.ta ? o.a[p * o.lda + i] : o.a[i * o.lda + p];
        const double y = g.tb ? o.b[j * o.ldb + p] : o.b[p * o.ldb + j];
        sum += double(g.alpha) * x * y;
      }
      ref[i * g.n + j] = sum;
    }
  }
  return ref;
}

// C matches the reference; the padding columns of C are untouched.
void expect_matches_reference(const GemmCase& g, const Operands& o, const std::vector<float>& c) {
  const std::vector<double>& ref = reference(g, o);
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < o.ldc; ++j) {
      const float got = c[i * o.ldc + j];
      if (j >= g.n) {
        ASSERT_TRUE(std::isnan(got) ? std::isnan(o.c0[i * o.ldc + j]) : got == o.c0[i * o.ldc + j])
            << "padding C[" << i << "][" << j << "] written";
        continue;
      }
      ASSERT_NEAR(got, ref[i * g.n + j], 1e-3 * std::sqrt(double(g.k)) + 1e-4) << "C[" << i << "][" << j << "]";
    }
  }
}

class Gemm : public ::testing::TestWithParam<GemmCase> {
 protected:
  void TearDown() override {
    set_deterministic(false);
    set_num_threads(2);
  }
};

TEST_P(Gemm, FastPathMatchesReference) {
  const GemmCase g = GetParam();
  const Operands o = operands(g);
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    set_num_threads(threads);
    expect_matches_reference(g, o, run(g, o));
  }
}

TEST_P(Gemm, DeterministicMatchesReferenceAndIgnoresThreadCount) {
  const GemmCase g = GetParam();
  const Operands o = operands(g);
  set_deterministic(true);
  set_num_threads(1);
  const auto one = run(g, o);
  set_num_threads(2);
  const auto two = run(g, o);
  ASSERT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0)
      << "deterministic GEMM depends on the thread count";
  expect_matches_reference(g, o, one);
}

// More shapes than the matmul primitive cache keeps: the ones past its limit fall back to OpenBLAS
// and are just as right.
TEST(GemmPrimitiveCache, ShapesBeyondItsLimitStayCorrect) {
  for (int64_t n = 1; n <= 300; ++n) {
    const GemmCase g{false, true, 32, n, 8, 0.0f, 0, 1.0f};
    SCOPED_TRACE(n);
    const Operands o = operands(g);
    expect_matches_reference(g, o, run(g, o));
  }
  EXPECT_EQ(fast_matmul_primitives_built(), 256) << "the cache is bounded, and these shapes filled it";
}

// Note [Repeated products]: C = A B^T with B packed once (m, n >= 32) or by ops::gemm (smaller),
// padded leading dimensions; a second run sees A's new values, and the padding of C stays as it was.
TEST(RepeatedGemm, EveryRunMatchesTheReference) {
  for (const GemmCase& shape : {GemmCase{false, true, 64, 80, 37, 0.0f, 3, 1.0f},
                                GemmCase{false, true, 33, 512, 384, 0.0f, 0, 1.0f},
                                GemmCase{false, true, 5, 80, 37, 0.0f, 2, 1.0f}}) {
    SCOPED_TRACE(::testing::Message() << shape.m << "x" << shape.n << "x" << shape.k);
    Operands o = operands(shape);
    std::vector<float> c = o.c0;
    RepeatedGemm<float> product(shape.m, shape.n, shape.k, o.a.data(), o.lda, o.b.data(), o.ldb, c.data(), o.ldc);
    product.run();
    expect_matches_reference(shape, o, c);
    GemmCase scaled = shape;  // A doubled in place: C doubles
    scaled.alpha = 2.0f;
    const std::vector<float> a_before = o.a;
    for (float& x : o.a) x *= 2.0f;
    product.run();
    o.a = a_before;  // the reference is alpha 2 on the A it was built from
    expect_matches_reference(scaled, o, c);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Gemm,
    ::testing::Values(
        // Many C tiles (forward convolution shapes), ragged edges, all transposes.
        GemmCase{false, false, 130, 1030, 70, 0.0f}, GemmCase{true, false, 130, 1030, 70, 0.5f},
        GemmCase{false, true, 130, 1030, 70, 0.0f}, GemmCase{true, true, 130, 1030, 70, 1.0f},
        // Few C tiles, long K (weight gradients): the split-K path.
        GemmCase{false, true, 32, 400, 9800, 0.0f}, GemmCase{true, false, 20, 30, 5000, 0.5f},
        GemmCase{false, false, 20, 30, 5000, 1.0f}, GemmCase{true, true, 20, 30, 5000, 0.0f},
        // Linear layers (batch 50: forward on OpenBLAS, backward-data and -weights on oneDNN), with
        // padded leading dimensions.
        GemmCase{false, true, 50, 1024, 3136, 0.0f, 3}, GemmCase{false, false, 50, 3136, 1024, 0.0f, 5},
        GemmCase{true, false, 1024, 3136, 50, 1.0f, 1}, GemmCase{true, true, 7, 9, 11, 0.5f, 2},
        // alpha 1, beta 0, B transposed, M >= 32: oneDNN's matmul primitive.
        GemmCase{false, true, 50, 1024, 3136, 0.0f, 0, 1.0f}, GemmCase{false, true, 64, 77, 130, 0.0f, 3, 1.0f},
        GemmCase{true, true, 33, 20, 17, 0.0f, 1, 1.0f},
        // Degenerate sizes.
        GemmCase{false, false, 1, 1, 1, 0.0f}, GemmCase{false, false, 3, 4, 0, 0.5f},
        GemmCase{true, false, 3, 4, 0, 0.0f, 2}));

}  // namespace
}  // namespace tg::ops
