// tapegrad/ops/blas_test.cc: the deterministic GEMM paths (C tiles, split K) agree with a plain
// double-precision reference for every transpose combination and beta, and give bit-identical
// results for 1 and 2 threads.
#include "ops/blas.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ops/parallel.h"

namespace tg::ops {
namespace {

struct GemmCase {
  bool ta, tb;
  int64_t m, n, k;
  float beta;
};

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// op(A)[i][p] and op(B)[p][j] for row-major storage with the leading dimensions gemm uses.
std::vector<float> run(const GemmCase& g, const std::vector<float>& a, const std::vector<float>& b,
                       std::vector<float> c) {
  const int64_t lda = g.ta ? g.m : g.k, ldb = g.tb ? g.k : g.n;
  gemm(g.ta, g.tb, g.m, g.n, g.k, 1.5f, a.data(), lda, b.data(), ldb, g.beta, c.data(), g.n);
  return c;
}

class DeterministicGemm : public ::testing::TestWithParam<GemmCase> {
 protected:
  void TearDown() override {
    set_deterministic(false);
    set_num_threads(2);
  }
};

TEST_P(DeterministicGemm, MatchesReferenceAndIgnoresThreadCount) {
  const GemmCase g = GetParam();
  const auto a = random_values(g.m * g.k, 1), b = random_values(g.k * g.n, 2);
  // beta 0 must ignore what C holds, even NaN.
  const auto c0 = g.beta == 0 ? std::vector<float>(g.m * g.n, NAN) : random_values(g.m * g.n, 3);
  const int64_t lda = g.ta ? g.m : g.k, ldb = g.tb ? g.k : g.n;
  set_deterministic(true);
  set_num_threads(1);
  const auto one = run(g, a, b, c0);
  set_num_threads(2);
  const auto two = run(g, a, b, c0);
  ASSERT_EQ(one, two) << "deterministic GEMM depends on the thread count";
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      double ref = g.beta == 0 ? 0.0 : double(g.beta) * c0[i * g.n + j];
      for (int64_t p = 0; p < g.k; ++p) {
        const double x = g.ta ? a[p * lda + i] : a[i * lda + p], y = g.tb ? b[j * ldb + p] : b[p * ldb + j];
        ref += 1.5 * x * y;
      }
      ASSERT_NEAR(one[i * g.n + j], ref, 1e-3 * std::sqrt(double(g.k)) + 1e-4) << "C[" << i << "][" << j << "]";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DeterministicGemm,
    ::testing::Values(
        // Many C tiles (forward convolution shapes), ragged edges, all transposes.
        GemmCase{false, false, 130, 1030, 70, 0.0f}, GemmCase{true, false, 130, 1030, 70, 0.5f},
        GemmCase{false, true, 130, 1030, 70, 0.0f}, GemmCase{true, true, 130, 1030, 70, 1.0f},
        // Few C tiles, long K (weight gradients): the split-K path.
        GemmCase{false, true, 32, 400, 9800, 0.0f}, GemmCase{true, false, 20, 30, 5000, 0.5f},
        GemmCase{false, false, 20, 30, 5000, 1.0f}, GemmCase{true, true, 20, 30, 5000, 0.0f},
        // Degenerate sizes.
        GemmCase{false, false, 1, 1, 1, 0.0f}, GemmCase{false, false, 3, 4, 0, 0.5f}));

}  // namespace
}  // namespace tg::ops
