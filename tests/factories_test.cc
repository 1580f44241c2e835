// tapegrad/tests/factories_test.cc: the tensor factories beyond zeros/ones: arange's dtype rule,
// linspace/eye/full_like edge cases and errors, and the random ones (randint, randperm, bernoulli,
// multinomial): range, exact permutations, frequencies against their probabilities (chi-square,
// seeded so the test is deterministic), reproducibility from a seed, and bad arguments refused.
// Values of arange/linspace/eye against PyTorch live in functions_reference_test.
#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/testing/error_of.h"

namespace tg {
namespace {

using ::testing::HasSubstr;

// Pearson's statistic of observed counts against expected probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& probs) {
  const double n = static_cast<double>(std::accumulate(counts.begin(), counts.end(), int64_t{0}));
  double stat = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = n * probs[i];
    stat += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return stat;
}

TEST(Arange, IntegerArgumentsGiveInt64AndAnyFloatGivesFloat32) {
  EXPECT_EQ(arange(5).dtype(), kInt64);
  EXPECT_EQ(arange(1, 7, 2).dtype(), kInt64);
  EXPECT_EQ(arange(2.5).dtype(), kFloat32);
  EXPECT_EQ(arange(0, 1, 0.25).dtype(), kFloat32);
  EXPECT_EQ((arange(0, 1, 0.25)).to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  // The example: no silent truncation.
  EXPECT_EQ((arange(5) * 2.5).to_vector<double>(), (std::vector<double>{0, 2.5, 5, 7.5, 10}));
  EXPECT_EQ(arange(3, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(arange(3, TensorOptions(kFloat64).set_requires_grad()).requires_grad(), true);
  EXPECT_EQ(arange(0).numel(), 0);
}

TEST(Linspace, EndpointsExactAndErrors) {
  const Tensor t = linspace(0.1, 0.7, 7, kFloat64);
  const std::vector<double> v = t.to_vector<double>();
  EXPECT_EQ(v.front(), 0.1);
  EXPECT_EQ(v.back(), 0.7);
  EXPECT_EQ(linspace(0, 1, 5).dtype(), kFloat32);
  EXPECT_THAT(error_of([] { linspace(0, 1, -1); }), HasSubstr("linspace: steps must be non-negative, got -1"));
}

TEST(Eye, SquareDefaultAndEmpty) {
  EXPECT_EQ(eye(2).to_vector<double>(), (std::vector<double>{1, 0, 0, 1}));
  EXPECT_EQ(eye(0).shape(), (Shape{0, 0}));
  EXPECT_EQ(eye(2, 0).shape(), (Shape{2, 0}));
  EXPECT_EQ(eye(3, 3, kInt64).dtype(), kInt64);
  EXPECT_THAT(error_of([] { eye(-2); }), HasSubstr("eye: n must be non-negative, got -2"));
}

TEST(Like, KeepShapeAndDtype) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_EQ(full_like(x, 1.5).to_vector<double>(), std::vector<double>(6, 1.5));
  EXPECT_EQ(full_like(x, 1.5).dtype(), kFloat64);
  EXPECT_EQ(rand_like(x).shape(), x.shape());
  EXPECT_EQ(randn_like(x).dtype(), kFloat64);
  const std::vector<double> u = rand_like(zeros({1000})).to_vector<double>();
  EXPECT_TRUE(std::all_of(u.begin(), u.end(), [](double v) { return v >= 0 && v < 1; }));
}

TEST(Randint, CoversTheRangeUniformly) {
  ops::Generator gen(7);
  const Tensor t = randint(-3, 4, {7000}, kInt64, &gen);
  EXPECT_EQ(t.dtype(), kInt64);
  std::vector<int64_t> counts(7, 0);
  for (int64_t v : t.to_vector<int64_t>()) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 4);
    ++counts[v + 3];
  }
  // 6 degrees of freedom: P(chi2 > 22.46) = 0.001.
  EXPECT_LT(chi_square(counts, std::vector<double>(7, 1.0 / 7)), 22.46);
  EXPECT_EQ(randint(0, 2, {3, 4}, kFloat32, &gen).dtype(), kFloat32);
  EXPECT_EQ(randint(0, 1, {5}, kInt64, &gen).to_vector<int64_t>(), std::vector<int64_t>(5, 0));
  EXPECT_EQ(randint(0, 5, {0}).numel(), 0);
  EXPECT_THAT(error_of([] { randint(3, 3, {2}); }), HasSubstr("randint: low 3 must be below high 3"));
}

TEST(Randint, TheSameSeedGivesTheSameDraws) {
  ops::Generator a(11), b(11), c(12);
  const std::vector<int64_t> x = randint(0, 1000, {50}, kInt64, &a).to_vector<int64_t>();
  EXPECT_EQ(x, randint(0, 1000, {50}, kInt64, &b).to_vector<int64_t>());
  EXPECT_NE(x, randint(0, 1000, {50}, kInt64, &c).to_vector<int64_t>());
}

TEST(Randperm, IsAPermutationWithUniformPositions) {
  ops::Generator gen(3);
  std::vector<int64_t> first_counts(5, 0);
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<int64_t> p = randperm(5, &gen).to_vector<int64_t>();
    ++first_counts[p[0]];
    std::sort(p.begin(), p.end());
    ASSERT_EQ(p, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  }
  // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
  EXPECT_LT(chi_square(first_counts, std::vector<double>(5, 0.2)), 18.47);
  EXPECT_EQ(randperm(0).numel(), 0);
  EXPECT_EQ(randperm(1).to_vector<int64_t>(), std::vector<int64_t>{0});
  EXPECT_THAT(error_of([] { randperm(-1); }), HasSubstr("randperm: n must be non-negative, got -1"));
}

TEST(Bernoulli, FrequenciesFollowEachProbability) {
  ops::Generator gen(5);
  const int n = 4000;
  Tensor p = tensor(std::vector<double>{0.0, 0.25, 0.9, 1.0}, {1, 4}, kFloat64).expand({n, 4}).contiguous();
  const Tensor b = bernoulli(p, &gen);
  EXPECT_EQ(b.dtype(), kFloat64);
  EXPECT_EQ(b.shape(), p.shape());
  const std::vector<double> column_means = mean(b, 0).to_vector<double>();
  EXPECT_EQ(column_means[0], 0.0);  // p = 0 never fires
  EXPECT_EQ(column_means[3], 1.0);  // p = 1 always fires
  EXPECT_NEAR(column_means[1], 0.25, 4 * std::sqrt(0.25 * 0.75 / n));
  EXPECT_NEAR(column_means[2], 0.9, 4 * std::sqrt(0.9 * 0.1 / n));
  EXPECT_THAT(error_of([] { bernoulli(tensor(std::vector<double>{0.5, 1.5}, {2})); }),
              HasSubstr("bernoulli: probability 1.5 at 1 is not in [0, 1]"));
  EXPECT_THAT(error_of([] { bernoulli(arange(3)); }), HasSubstr("bernoulli: probabilities must be floating, got int64"));
}

TEST(Multinomial, WithReplacementFollowsTheWeights) {
  ops::Generator gen(9);
  // Unnormalised weights, a zero category that must never be drawn.
  const Tensor w = tensor(std::vector<double>{1, 0, 3, 6}, {4}, kFloat64);
  const std::vector<int64_t> draws = multinomial(w, 10000, true, &gen).to_vector<int64_t>();
  std::vector<int64_t> counts(4, 0);
  for (int64_t d : draws) ++counts[d];
  EXPECT_EQ(counts[1], 0);
  // 2 degrees of freedom over the positive categories: P(chi2 > 13.82) = 0.001.
  EXPECT_LT(chi_square({counts[0], counts[2], counts[3]}, {0.1, 0.3, 0.6}), 13.82);
}

TEST(Multinomial, WithoutReplacementDrawsDistinctCategoriesPerRow) {
  ops::Generator gen(4);
  const Tensor w = tensor(std::vector<double>{1, 2, 3, 4, 5, 0, 0, 7, 1, 1}, {2, 5}, kFloat32);
  for (int trial = 0; trial < 200; ++trial) {
    const Tensor s = multinomial(w, 3, false, &gen);
    ASSERT_EQ(s.shape(), (Shape{2, 3}));
    ASSERT_EQ(s.dtype(), kInt64);
    const std::vector<int64_t> v = s.to_vector<int64_t>();
    for (int r = 0; r < 2; ++r) {
      std::vector<int64_t> row(v.begin() + 3 * r, v.begin() + 3 * r + 3);
      std::sort(row.begin(), row.end());
      ASSERT_EQ(std::unique(row.begin(), row.end()), row.end()) << "a category drawn twice in row " << r;
    }
    // Row 1 has exactly three positive categories: every draw takes all of them.
    std::vector<int64_t> row1(v.begin() + 3, v.end());
    std::sort(row1.begin(), row1.end());
    ASSERT_EQ(row1, (std::vector<int64_t>{2, 3, 4}));
  }
  // The first draw without replacement follows the weights like one with replacement.
  std::vector<int64_t> first(5, 0);
  for (int trial = 0; trial < 3000; ++trial) ++first[multinomial(narrow(w, 0, 0, 1).reshape({5}), 2, false, &gen).to_vector<int64_t>()[0]];
  EXPECT_LT(chi_square(first, {1 / 15.0, 2 / 15.0, 3 / 15.0, 4 / 15.0, 5 / 15.0}), 18.47);
}

TEST(Multinomial, RefusesBadWeightsAndCounts) {
  const Tensor w = tensor(std::vector<double>{1, 0, 2}, {3});
  EXPECT_THAT(error_of([&] { multinomial(w, 3, false); }),
              HasSubstr("multinomial: 3 samples without replacement from 2 categories with positive weight (row 0)"));
  EXPECT_THAT(error_of([] { multinomial(tensor(std::vector<double>{1, -1}, {2}), 1); }),
              HasSubstr("multinomial: weight -1 in row 0 is negative or not finite"));
  EXPECT_THAT(error_of([] { multinomial(tensor(std::vector<double>{1, NAN}, {2}), 1); }),
              HasSubstr("is negative or not finite"));
  EXPECT_THAT(error_of([] { multinomial(zeros({2, 3}), 1, true); }), HasSubstr("multinomial: row 0 has no positive weight"));
  EXPECT_THAT(error_of([&] { multinomial(w, 0); }), HasSubstr("multinomial: num_samples must be positive, got 0"));
  EXPECT_THAT(error_of([] { multinomial(zeros({1, 2, 3}), 1); }),
              HasSubstr("multinomial: probabilities must be [C] or [N, C], got [1,2,3]"));
  EXPECT_THAT(error_of([] { multinomial(arange(3), 1); }), HasSubstr("multinomial: probabilities must be floating, got int64"));
}

}  // namespace
}  // namespace tg
