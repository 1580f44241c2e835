// tapegrad/tests/numerics_test.cc: forward values against independent references: hand-derived
// values (worked out in the comments) and naive direct loops written here, separately from the
// im2col/GEMM kernels they check.
#include <cmath>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Pointwise;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

void expect_close(const Tensor& a, const std::vector<double>& b, double tol) {
  const auto v = values(a);
  ASSERT_EQ(v.size(), b.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], b[i], tol) << "element " << i;
}

// Direct convolution: out[n][o][y][x] = b[o] + sum_{c,i,j} in[n][g*cg+c][y*s-p+i*d][x*s-p+j*d] * w[o][c][i][j]
std::vector<double> naive_conv2d(const Tensor& in, const Tensor& w, const Tensor& b, int sh, int sw, int ph, int pw,
                                 int dh, int dw, int groups, Shape* out_shape) {
  const auto x = values(in), k = values(w);
  const auto bias = b.defined() ? values(b) : std::vector<double>(w.size(0), 0.0);
  const int64_t N = in.size(0), C = in.size(1), H = in.size(2), W = in.size(3);
  const int64_t O = w.size(0), cg = w.size(1), KH = w.size(2), KW = w.size(3);
  const int64_t OH = (H + 2 * ph - dh * (KH - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (KW - 1) - 1) / sw + 1;
  *out_shape = {N, O, OH, OW};
  std::vector<double> out(N * O * OH * OW);
  const int64_t og = O / groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t y = 0; y < OH; ++y)
        for (int64_t xo = 0; xo < OW; ++xo) {
          double s = bias[o];
          const int64_t g = o / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < KH; ++i)
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t iy = y * sh - ph + i * dh, ix = xo * sw - pw + j * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += x[((n * C + g * cg + c) * H + iy) * W + ix] * k[((o * cg + c) * KH + i) * KW + j];
              }
          out[((n * O + o) * OH + y) * OW + xo] = s;
        }
  return out;
}

struct ConvCase {
  Shape input, weight;
  int sh, sw, ph, pw, dh, dw, groups;
  bool bias;
};

class ConvNumerics : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvNumerics, MatchesDirectConvolutionInBothDtypes) {
  const ConvCase c = GetParam();
  for (DType dtype : {kFloat64, kFloat32}) {
    manual_seed(3);
    Tensor x = randn(c.input, dtype), w = randn(c.weight, dtype);
    Tensor b = c.bias ? randn({c.weight[0]}, dtype) : Tensor();
    Shape shape;
    const auto expected = naive_conv2d(x, w, b, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, &shape);
    Tensor y = conv2d(x, w, b, {c.sh, c.sw}, {c.ph, c.pw}, {c.dh, c.dw}, c.groups);
    ASSERT_EQ(y.shape(), shape);
    expect_close(y, expected, dtype == kFloat64 ? 1e-12 : 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, ConvNumerics,
    ::testing::Values(ConvCase{{2, 3, 7, 6}, {4, 3, 3, 3}, 1, 1, 0, 0, 1, 1, 1, true},
                      ConvCase{{1, 1, 28, 28}, {16, 1, 5, 5}, 1, 1, 2, 2, 1, 1, 1, true},  // cnn_small conv1
                      ConvCase{{2, 4, 9, 8}, {6, 2, 3, 2}, 2, 1, 1, 0, 1, 2, 2, false},
                      ConvCase{{1, 6, 5, 5}, {6, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 6, true},      // depthwise
                      ConvCase{{3, 2, 6, 6}, {2, 2, 2, 2}, 3, 3, 0, 0, 2, 2, 1, true}));

TEST(ConvNumerics, BackwardMatchesAdjointIdentity) {
  // <conv(x, w), g> = <x, Dx(g, w)> = <w, Dw(x, g)> for any x, w, g: checks both adjoints in float32.
  manual_seed(11);
  Tensor x = randn({2, 4, 8, 8}), w = randn({6, 2, 3, 3}), g = randn({2, 6, 4, 4});
  const Size2 s = 2, p = 1, d = 1;
  Tensor y = conv2d(x, w, Tensor(), s, p, d, 2);
  ASSERT_EQ(y.shape(), g.shape());
  const double lhs = sum(y * g).item();
  const double via_x = sum(x * conv2d_backward_input(g, w, x.shape(), s, p, d, 2)).item();
  const double via_w = sum(w * conv2d_backward_weight(x, g, w.shape(), s, p, d, 2)).item();
  EXPECT_NEAR(via_x, lhs, 1e-3 * std::fabs(lhs) + 1e-3);
  EXPECT_NEAR(via_w, lhs, 1e-3 * std::fabs(lhs) + 1e-3);
}

TEST(MatmulNumerics, MatchesNaiveLoopsForAllLayouts) {
  manual_seed(5);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = ta ? randn({7, 5}).t() : randn({5, 7});
      Tensor b = tb ? randn({3, 7}).t() : randn({7, 3});
      const auto av = values(a), bv = values(b);
      std::vector<double> expected(15, 0.0);
      for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 3; ++j)
          for (int k = 0; k < 7; ++k) expected[i * 3 + j] += av[i * 7 + k] * bv[k * 3 + j];
      expect_close(matmul(a, b), expected, 1e-4);
    }
}

TEST(PoolNumerics, HandComputedMaxAndAverage) {
  // 4x4 plane 0..15, kernel 2 stride 2: maxima are the bottom-right of each block.
  Tensor x = arange(0, 16, 1, kFloat64).reshape({1, 1, 4, 4});
  EXPECT_THAT(values(max_pool2d(x, 2)), ElementsAre(5, 7, 13, 15));
  EXPECT_THAT(values(avg_pool2d(x, 2)), ElementsAre(2.5, 4.5, 10.5, 12.5));
  // Padding 1, kernel 3, stride 2 on a 3x3 plane of ones: a 2x2 output whose every window covers
  // 4 real cells of 9 (e.g. the top-left one spans rows and cols -1..1).
  Tensor ones3 = ones({1, 1, 3, 3}, kFloat64);
  EXPECT_THAT(values(avg_pool2d(ones3, 3, 2, 1)), ElementsAre(4.0 / 9, 4.0 / 9, 4.0 / 9, 4.0 / 9));
  EXPECT_THAT(values(avg_pool2d(ones3, 3, 2, 1, /*ceil_mode=*/false, /*count_include_pad=*/false)), ElementsAre(1, 1, 1, 1));
  // Max pooling ignores padding even when every real value is negative.
  EXPECT_THAT(values(max_pool2d(ones3 * -1.0, 3, 2, 1)), ElementsAre(-1, -1, -1, -1));
}

TEST(ActivationNumerics, HandComputedValues) {
  // softmax([1,2,3]) = e^i / (e + e^2 + e^3)
  expect_close(softmax(tensor({1.0, 2.0, 3.0}, kFloat64), 0), {0.0900305731703805, 0.2447284710547976, 0.6652409557748219},
               1e-15);
  expect_close(log_softmax(tensor({1.0, 2.0, 3.0}, kFloat64), 0),
               {-2.4076059644443806, -1.4076059644443806, -0.4076059644443806}, 1e-15);
  expect_close(logsumexp(tensor({1.0, 2.0, 3.0}, kFloat64), {0}), {3.4076059644443806}, 1e-15);
  // gelu(x) = x * Phi(x): Phi(1) = 0.8413447460685429, Phi(-0.5) = 0.3085375387259869
  expect_close(gelu(tensor({1.0, -0.5, 0.0}, kFloat64)), {0.8413447460685429, -0.15426876936299344, 0.0}, 1e-15);
  expect_close(sigmoid(tensor({-1000.0, 0.0, 1000.0}, kFloat64)), {0.0, 0.5, 1.0}, 0);
  expect_close(leaky_relu(tensor({-2.0, 3.0}, kFloat64), 0.1), {-0.2, 3.0}, 1e-15);
  // Huge logits stay finite: softmax subtracts the row max.
  expect_close(softmax(tensor({1000.0, 1000.0}), 0), {0.5, 0.5}, 0);
}

TEST(LossNumerics, HandComputedValues) {
  Tensor logits = tensor({{1.0, 2.0, 3.0}}, kFloat64);
  Tensor target = tensor(std::vector<int64_t>{2});
  // -log softmax(...)[2] = 0.4076059644443806
  EXPECT_NEAR(cross_entropy(logits, target).item(), 0.4076059644443806, 1e-15);
  // label smoothing 0.1: 0.9 * 0.40760596 + 0.1 * mean(2.40760596, 1.40760596, 0.40760596)
  EXPECT_NEAR(cross_entropy(logits, target, Reduction::kMean, 0.1).item(), 0.9 * 0.4076059644443806 + 0.1 * 1.4076059644443806,
              1e-15);
  // Ignored entries count neither in the sum nor in the mean's divisor.
  Tensor two = tensor({{1.0, 2.0, 3.0}, {5.0, 0.0, 0.0}}, kFloat64);
  EXPECT_NEAR(cross_entropy(two, tensor(std::vector<int64_t>{2, -100})).item(), 0.4076059644443806, 1e-15);
  EXPECT_NEAR(nll_loss(tensor({{-0.5, -1.5}}, kFloat64), tensor(std::vector<int64_t>{1})).item(), 1.5, 0);
  EXPECT_NEAR(mse_loss(tensor({1.0, 2.0}, kFloat64), tensor({3.0, 2.0}, kFloat64)).item(), 2.0, 0);
  // log(1 + e^-0.5) = 0.47407698418010663 for x = 0.5, y = 1; x = -200, y = 0 gives ~0 without overflow.
  EXPECT_NEAR(binary_cross_entropy_with_logits(tensor({0.5}, kFloat64), tensor({1.0}, kFloat64)).item(),
              0.47407698418010663, 1e-15);
  EXPECT_NEAR(binary_cross_entropy_with_logits(tensor({-200.0}), tensor({0.0})).item(), 0.0, 1e-30);
}

TEST(BatchNormNumerics, TrainingNormalizesAndUpdatesRunningStatistics) {
  // One channel with values 1 and 3: mean 2, biased var 1, unbiased var 2.
  Tensor x = tensor(std::vector<double>{1.0, 3.0}, {2, 1}, kFloat64);
  Tensor rm = zeros({1}, kFloat64), rv = ones({1}, kFloat64);
  Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1, 1e-5);
  const double s = 1 / std::sqrt(1 + 1e-5);
  expect_close(y, {-s, s}, 1e-15);
  EXPECT_NEAR(rm.item(), 0.2, 1e-15);           // 0.9 * 0 + 0.1 * 2
  EXPECT_NEAR(rv.item(), 0.9 + 0.1 * 2, 1e-15);  // 0.9 * 1 + 0.1 * 2
  // Eval uses the running statistics.
  Tensor e = batch_norm(x, rm, rv, tensor({2.0}, kFloat64), tensor({1.0}, kFloat64), false);
  expect_close(e, {2 * (1 - 0.2) / std::sqrt(1.1 + 1e-5) + 1, 2 * (3 - 0.2) / std::sqrt(1.1 + 1e-5) + 1}, 1e-12);
}

// The fused float32 batch-norm kernels (statistics, and the backward taken without create_graph)
// against the composed float64 formula (the backward with create_graph), on an input whose mean
// is far from zero next to its spread (where a one-pass variance would cancel), an odd row length
// (the kernels' lane tails), both modes and both memory formats (the channels-last kernels, Note
// [Channels last] in ops/array.cc, sum along rows of channels).
TEST(BatchNormNumerics, FusedFloat32KernelsMatchTheComposedFloat64Formula) {
  manual_seed(5);
  const Tensor x64 = randn({6, 3, 5, 7}, kFloat64) * 0.1 + 100.0, w64 = randn({3}, kFloat64), g64 = randn({6, 3, 5, 7}, kFloat64);
  for (MemoryFormat format : {MemoryFormat::Contiguous, MemoryFormat::ChannelsLast})
  for (bool training : {true, false}) {
    SCOPED_TRACE(memory_format_name(format));
    auto grads = [&](DType dtype, bool create_graph) {
      const Tensor x = to_dtype(x64, dtype).contiguous(format).detach().set_requires_grad();
      const Tensor w = to_dtype(w64, dtype).detach().set_requires_grad();
      const Tensor b = zeros({3}, dtype).set_requires_grad();
      const Tensor rm = full({3}, 100.0, dtype), rv = full({3}, 0.01, dtype);
      const Tensor y = batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5);
      EXPECT_EQ(y.suggest_memory_format(), format);
      std::vector<Tensor> out =
          autograd::grad({y}, {x, w, b}, {to_dtype(g64, dtype).contiguous(format)}, std::nullopt, create_graph);
      if (!create_graph) {
        EXPECT_EQ(out[0].suggest_memory_format(), format) << "the input's gradient";
      }
      out.push_back(y);
      return out;
    };
    const std::vector<Tensor> want = grads(kFloat64, /*create_graph=*/true), fused64 = grads(kFloat64, false),
                              fused32 = grads(kFloat32, false);
    for (size_t i = 0; i < want.size(); ++i) {
      const std::vector<double> w = want[i].to_vector<double>(), f64 = fused64[i].to_vector<double>(),
                                f32 = to_dtype(fused32[i], kFloat64).to_vector<double>();
      double scale = 0;
      for (double v : w) scale = std::max(scale, std::abs(v));
      for (size_t j = 0; j < w.size(); ++j) {
        EXPECT_NEAR(f64[j], w[j], 1e-10 * scale) << "training=" << training << " output " << i << " [" << j << "]";
        EXPECT_NEAR(f32[j], w[j], 2e-3 * scale) << "training=" << training << " output " << i << " [" << j << "]";
      }
    }
  }
}

TEST(DropoutNumerics, KeepsExpectationAndIsReproducible) {
  ops::Generator g1(9), g2(9);
  Tensor x = ones({100000});
  Tensor a = dropout(x, 0.3, true, &g1), b = dropout(x, 0.3, true, &g2);
  EXPECT_EQ(values(a), values(b));
  EXPECT_NEAR(mean(a).item(), 1.0, 0.02);
  for (double v : values(slice(a, 0, 0, 100))) EXPECT_TRUE(v == 0.0 || std::fabs(v - 1 / 0.7) < 1e-6);
  EXPECT_EQ(values(dropout(x, 0.3, false)), values(x));
  EXPECT_THAT(values(dropout(ones({3}), 1.0)), ElementsAre(0, 0, 0));
}

TEST(ReductionNumerics, MaxMinArgmaxAlongDims) {
  Tensor x = tensor({{1.0, 5.0, 3.0}, {4.0, 2.0, 6.0}}, kFloat64);
  auto [v, i] = max(x, 1);
  EXPECT_THAT(values(v), ElementsAre(5, 6));
  EXPECT_THAT(values(i), ElementsAre(1, 2));
  auto [mv, mi] = min(x, 0, true);
  EXPECT_EQ(mv.shape(), Shape({1, 3}));
  EXPECT_THAT(values(mv), ElementsAre(1, 2, 3));
  EXPECT_THAT(values(mi), ElementsAre(0, 1, 0));
  EXPECT_EQ(argmax(x).item<int64_t>(), 5);
  EXPECT_THAT(values(argmax(x, 0)), ElementsAre(1, 0, 1));
  EXPECT_THAT(values(mean(x, {0})), ElementsAre(2.5, 3.5, 4.5));
  EXPECT_DOUBLE_EQ(max(x).item(), 6.0);
  EXPECT_THAT(values(sum(x, {0, 1}, true)), ElementsAre(21));
}

TEST(IndexNumerics, CatStackIndexSelectGather) {
  Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64);
  EXPECT_THAT(values(cat({a, a * 10.0}, 1)), ElementsAre(1, 2, 10, 20, 3, 4, 30, 40));
  EXPECT_EQ(stack({a, a}, 0).shape(), Shape({2, 2, 2}));
  EXPECT_THAT(values(index_select(a, 1, tensor(std::vector<int64_t>{1, 1, 0}))), ElementsAre(2, 2, 1, 4, 4, 3));
  EXPECT_THAT(values(gather(a, 1, tensor(std::vector<int64_t>{1, 0}, {2, 1}))), ElementsAre(2, 3));
  EXPECT_THAT(values(scatter_add({2, 2}, 1, tensor(std::vector<int64_t>{1, 1}, {2, 1}), tensor(std::vector<double>{5.0, 7.0}, {2, 1}, kFloat64))),
              ElementsAre(0, 5, 0, 7));
}

}  // namespace
}  // namespace tg
