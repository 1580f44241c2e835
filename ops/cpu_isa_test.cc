// tapegrad/ops/cpu_isa_test.cc: every ISA level of the per-ISA kernels this CPU can run gives the
// baseline's results (bit-exact where no rounding can differ, else within a few ulps: the AVX2 and
// AVX-512 levels may fuse a multiply-add), the baseline equals the generic strided kernels, and the
// cap (TG_MAX_CPU_ISA, set_max_cpu_isa) selects what the public ops run.
#include "ops/cpu_isa.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"
#include "ops/internal/channel_kernels.h"
#include "ops/internal/vector_kernels.h"
#include "ops/pool.h"

namespace tg::ops {
namespace {

using internal::vector_kernels_table;
using internal::vector_kernels;
using internal::VectorKernels;


// Inputs with the cases kernels get wrong: zeros of both signs, ties, kinks, subnormals, huge and
// tiny values, infinities, NaN, then random values; 1000 + 37 long so vector remainders run.
template <typename T>
std::vector<T> special_and_random(uint64_t seed) {
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> v = {0,    -0.0, 1,     -1,   0.5,  -0.5, 1e-3, -1e-3, 3,   -3,  20,   -20,   88,  -88,
                      700,  -700, 1e30, -1e30, inf,  -inf, std::numeric_limits<T>::quiet_NaN(),
                      std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
                      std::numeric_limits<T>::min(), std::numeric_limits<T>::max()};
  Generator gen(seed);
  const Array r = normal({1037 - static_cast<int64_t>(v.size())}, 0, 4, dtype_of<T>(), gen);
  for (int64_t i = 0; i < r.numel(); ++i) v.push_back(r.data<T>()[i]);
  return v;
}

// Same bits, both NaN, or within `ulps` ulps of the reference (relative; absolute near zero).
template <typename T>
::testing::AssertionResult close(T got, T want, double ulps = 4) {
  if (std::memcmp(&got, &want, sizeof(T)) == 0 || (std::isnan(got) && std::isnan(want))) {
    return ::testing::AssertionSuccess();
  }
  const T eps = std::numeric_limits<T>::epsilon();
  if (std::isfinite(got) && std::isfinite(want) &&
      std::abs(got - want) <= ulps * eps * std::max(std::abs(want), std::numeric_limits<T>::min())) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << got << " vs baseline " << want;
}

// The tanh form of gelu exponentiates a cubic, sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)): a fused
// multiply-add rounds the cubic differently, and the exponential multiplies that relative error by
// |2u| (about 11 at x = -4, 290 at x = -15), so the levels agree to 4 (1 + |2u|) ulps. Both
// derivatives are a difference of O(1) terms that crosses zero near x = -0.75: their error is
// relative to 1 there, not to the result.
template <typename T>
double unary_ulps(UnaryOp op, T x, T want) {
  double ulps = 4;
  if (op == UnaryOp::kGeluTanh || op == UnaryOp::kGeluTanhDerivative) {
    const double u = 0.7978845608028654 * (double(x) + 0.044715 * double(x) * x * x);
    if (std::isfinite(u)) ulps = 4 * (1 + std::abs(2 * u));
  }
  const bool crosses_zero = op == UnaryOp::kGeluTanhDerivative || op == UnaryOp::kGeluDerivative;
  return crosses_zero && std::abs(want) < 1 && want != 0 ? ulps / std::abs(want) : ulps;
}

template <typename T>
void check_elementwise_levels() {
  const std::vector<T> x = special_and_random<T>(1), y = special_and_random<T>(2);
  const int64_t n = static_cast<int64_t>(x.size());
  const VectorKernels<T>& base = vector_kernels<T>(CpuIsa::kBaseline);
  for (CpuIsa isa : runnable_cpu_isas()) {
    const VectorKernels<T>& k = vector_kernels<T>(isa);
    EXPECT_EQ(vector_kernels_table(isa).isa, isa);
    std::vector<T> want(n), got(n);
#define TG_CASE(Name, str, ...)                                                                   \
    base.unary(UnaryOp::k##Name, x.data(), want.data(), n);                                       \
    k.unary(UnaryOp::k##Name, x.data(), got.data(), n);                                           \
    for (int64_t i = 0; i < n; ++i)                                                               \
      ASSERT_TRUE(close(got[i], want[i], unary_ulps(UnaryOp::k##Name, x[i], want[i]))) << str << "(" << x[i] << ") at " << cpu_isa_name(isa);
    TG_UNARY_OPS(TG_CASE)
#undef TG_CASE
#define TG_CASE(Name, str, ...)                                                                   \
    base.binary(BinaryOp::k##Name, x.data(), y.data(), want.data(), n);                            \
    k.binary(BinaryOp::k##Name, x.data(), y.data(), got.data(), n);                                \
    for (int64_t i = 0; i < n; ++i)                                                                \
      ASSERT_TRUE(close(got[i], want[i])) << str << "(" << x[i] << ", " << y[i] << ") at " << cpu_isa_name(isa);
    TG_BINARY_OPS(TG_CASE)
#undef TG_CASE
  }
}

TEST(CpuIsa, ElementwiseLevelsAgreeFloat) { check_elementwise_levels<float>(); }
TEST(CpuIsa, ElementwiseLevelsAgreeDouble) { check_elementwise_levels<double>(); }

// The baseline vector kernels equal the generic kernels of any strides bit for bit (same level,
// same expressions): a transposed view takes the generic path.
TEST(CpuIsa, BaselineMatchesGenericStridedKernels) {
  set_max_cpu_isa(CpuIsa::kBaseline);
  const std::vector<float> v = special_and_random<float>(3);
  Array x = Array::empty({61, 17}, kFloat32);
  std::copy(v.begin(), v.end(), x.data<float>());
  const Array xt = x.transpose(0, 1);  // not contiguous
  for (UnaryOp op : {UnaryOp::kExp, UnaryOp::kTanh, UnaryOp::kSigmoid, UnaryOp::kGelu, UnaryOp::kRelu}) {
    const Array fast = unary(op, xt.contiguous()), generic = unary(op, xt);
    ASSERT_EQ(std::memcmp(fast.data<float>(), generic.contiguous().data<float>(), fast.numel() * sizeof(float)), 0)
        << unary_op_name(op);
  }
  const Array sum_fast = binary(BinaryOp::kMul, xt.contiguous(), xt.contiguous());
  const Array sum_generic = binary(BinaryOp::kMul, xt, xt);
  EXPECT_EQ(std::memcmp(sum_fast.data<float>(), sum_generic.contiguous().data<float>(), 4 * sum_fast.numel()), 0);
  set_max_cpu_isa(std::nullopt);
}

// Max pool rows: values and indices bit-exact at every level, for every width up to 40 (the
// AVX-512 kernel's masked chunks), ties and NaNs included.
template <typename T>
void check_max_pool_levels() {
  std::vector<T> r0 = special_and_random<T>(4), r1 = special_and_random<T>(5);
  for (size_t i = 30; i < 60; i += 3) r1[i] = r0[i];  // ties across the rows
  for (size_t i = 60; i < 70; ++i) r0[i] = r0[60];    // ties within a row
  for (int64_t ow = 1; ow <= 40; ++ow) {
    std::vector<T> want(ow), got(ow);
    std::vector<int64_t> want_at(ow), got_at(ow);
    vector_kernels<T>(CpuIsa::kBaseline).max_pool_2x2_row(r0.data(), r1.data(), 1000, 2000, ow, want.data(), want_at.data());
    for (CpuIsa isa : runnable_cpu_isas()) {
      vector_kernels<T>(isa).max_pool_2x2_row(r0.data(), r1.data(), 1000, 2000, ow, got.data(), got_at.data());
      ASSERT_EQ(std::memcmp(got.data(), want.data(), ow * sizeof(T)), 0) << "width " << ow << " at " << cpu_isa_name(isa);
      ASSERT_EQ(got_at, want_at) << "width " << ow << " at " << cpu_isa_name(isa);
      std::vector<T> no_index(ow);
      vector_kernels<T>(isa).max_pool_2x2_row(r0.data(), r1.data(), 1000, 2000, ow, no_index.data(), nullptr);
      ASSERT_EQ(std::memcmp(no_index.data(), want.data(), ow * sizeof(T)), 0);
    }
  }
}

// Softmax rows within a few ulps (libmvec may vectorize exp differently per level, and the sum
// of the exponentials runs in lanes): log_softmax's (x - max) - log(sum) to ulps of log(sum),
// which is at most log(n) (a result near zero cancels it, so not to ulps of the result); the
// [a, k, b] sum bit-exact (fixed lane order, additions only).
template <typename T>
void check_softmax_and_sum_levels() {
  std::vector<T> x = special_and_random<T>(7);
  for (T& v : x) v = std::isnan(v) || std::abs(v) > 1e4 ? T(1) : v;  // finite rows, plus:
  x[100] = -std::numeric_limits<T>::infinity();                      // a masked entry
  for (int64_t n : {1, 7, 10, 33, 1000}) {
    for (bool log : {false, true}) {
      std::vector<T> want(n), got(n);
      vector_kernels<T>(CpuIsa::kBaseline).softmax_row(log, x.data() + 90, want.data(), n);
      for (CpuIsa isa : runnable_cpu_isas()) {
        vector_kernels<T>(isa).softmax_row(log, x.data() + 90, got.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double scale = log ? std::max<double>(std::abs(want[i]), std::log(static_cast<double>(n)) + 1) : 0;
          const double gap = std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
          if (log && std::isfinite(want[i]) && gap <= 4 * std::numeric_limits<T>::epsilon() * scale) continue;
          // The sum's rounding (n terms in 8 or 16 lanes, then the lanes) reaches every output.
          ASSERT_TRUE(close(got[i], want[i], 4 + n / 8.0)) << (log ? "log_" : "") << "softmax n=" << n << " at " << cpu_isa_name(isa);
        }
      }
    }
  }
  const int64_t a = 3, k = 5, b = 67;  // 67: the lanes' remainder runs
  std::vector<T> want(k), got(k);
  vector_kernels<T>(CpuIsa::kBaseline).sum_outer_and_inner(x.data(), a, k, b, 0, k, want.data());
  for (CpuIsa isa : runnable_cpu_isas()) {
    vector_kernels<T>(isa).sum_outer_and_inner(x.data(), a, k, b, 0, k, got.data());
    ASSERT_EQ(std::memcmp(got.data(), want.data(), k * sizeof(T)), 0) << cpu_isa_name(isa);
  }
  double direct = 0;  // the kernel really sums: channel 2 against a plain loop
  for (int64_t i = 0; i < a; ++i)
    for (int64_t m = 0; m < b; ++m) direct += x[(i * k + 2) * b + m];
  EXPECT_NEAR(want[2], direct, 1e-4 * (1 + std::abs(direct)));
}

TEST(CpuIsa, SoftmaxAndSumLevelsAgreeFloat) { check_softmax_and_sum_levels<float>(); }
TEST(CpuIsa, SoftmaxAndSumLevelsAgreeDouble) { check_softmax_and_sum_levels<double>(); }

// Batch norm's channel loops bit-exact at every level (vectorized across channels, compiled
// without contraction; NaNs compare as NaNs), for channel counts around the vector widths and with
// the special values; each also against a plain loop, so the kernels really compute what
// channel_kernels.h says.
template <typename T>
void check_channel_kernel_levels() {
  const std::vector<T> x = special_and_random<T>(8), g = special_and_random<T>(9);
  const auto& base = internal::channel_kernels<T>(CpuIsa::kBaseline);
  for (int64_t c : {1, 3, 16, 17, 33}) {
    const int64_t rows = 1000 / c;
    const std::vector<T> shift(x.begin() + 500, x.begin() + 500 + c), scale(g.begin() + 700, g.begin() + 700 + c),
        bias(x.begin() + 800, x.begin() + 800 + c);
    std::vector<T> want(2 * c + 2 * rows * c, T(0));
    T* want_first = want.data();
    T* want_affine = want.data() + 2 * c;
    T* want_grad = want_affine + rows * c;
    base.sums(g.data(), shift.data(), x.data(), shift.data(), rows, c, want_first, want_first + c);
    base.affine(x.data(), scale.data(), shift.data(), rows, c, want_affine);
    base.input_gradient(g.data(), x.data(), scale.data(), bias.data(), shift.data(), scale.data(), rows, c, want_grad);
    for (CpuIsa isa : runnable_cpu_isas()) {
      const auto& k = internal::channel_kernels<T>(isa);
      std::vector<T> got(want.size(), T(0));
      k.sums(g.data(), shift.data(), x.data(), shift.data(), rows, c, got.data(), got.data() + c);
      k.affine(x.data(), scale.data(), shift.data(), rows, c, got.data() + 2 * c);
      k.input_gradient(g.data(), x.data(), scale.data(), bias.data(), shift.data(), scale.data(), rows, c,
                       got.data() + 2 * c + rows * c);
      // Bit for bit, except that a NaN's sign and payload depend on the operand order the
      // compiler picks (seen at -O1 under ASan): any NaN matches a NaN.
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_TRUE(close(got[i], want[i], 0)) << "c=" << c << " at " << i << " " << cpu_isa_name(isa);
      std::vector<T> unshifted(2 * c, T(0));  // a_shift null: u = a
      k.sums(g.data(), nullptr, x.data(), shift.data(), rows, c, unshifted.data(), unshifted.data() + c);
      T first = 0, second = 0;
      for (int64_t r = 0; r < rows; ++r) {
        first += g[r * c] - shift[0];
        second += (g[r * c] - shift[0]) * (x[r * c] - shift[0]);
      }
      T plain_unshifted = 0;
      for (int64_t r = 0; r < rows; ++r) plain_unshifted += g[r * c] * (x[r * c] - shift[0]);
      EXPECT_TRUE(close(want_first[0], first, 0)) << "c=" << c;
      EXPECT_TRUE(close(want_first[c], second, 0)) << "c=" << c;
      EXPECT_TRUE(close(unshifted[c], plain_unshifted, 0)) << "c=" << c;
      const int64_t last = rows * c - 1, ch = last % c;
      EXPECT_TRUE(close(want_affine[last], x[last] * scale[ch] + shift[ch], 0));
      EXPECT_TRUE(close(want_grad[last], scale[ch] * g[last] + bias[ch] * (x[last] - shift[ch]) + scale[ch], 0));
    }
  }
}

TEST(CpuIsa, ChannelKernelLevelsAgreeFloat) { check_channel_kernel_levels<float>(); }
TEST(CpuIsa, ChannelKernelLevelsAgreeDouble) { check_channel_kernel_levels<double>(); }

// The public batch-norm ops on channels-last input give the baseline's bits under every cap.
TEST(CpuIsa, ChannelsLastBatchNormSameBitsAtEveryLevel) {
  Generator gen(10);
  const Array x = normal({6, 19, 9, 7}, 3, 2, kFloat32, gen).contiguous(MemoryFormat::ChannelsLast);
  const Array g = normal({6, 19, 9, 7}, 0, 1, kFloat32, gen).contiguous(MemoryFormat::ChannelsLast);
  const Array w = normal({19}, 1, 0.5, kFloat32, gen), b = normal({19}, 0, 0.5, kFloat32, gen);
  const auto run = [&] {
    const auto [mean, var] = batch_norm_stats(x);
    const Array y = batch_norm_apply(x, mean, var, w, b);
    const BatchNormGrads grads = batch_norm_backward(g, x, mean, var, w, true, true, true, true);
    return std::vector<Array>{mean, var, y, grads.input, grads.weight, grads.bias};
  };
  set_max_cpu_isa(CpuIsa::kBaseline);
  const std::vector<Array> want = run();
  for (CpuIsa isa : runnable_cpu_isas()) {
    set_max_cpu_isa(isa);
    const std::vector<Array> got = run();
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(std::memcmp(got[i].data<float>(), want[i].data<float>(), 4 * want[i].numel()), 0)
          << "output " << i << " at " << cpu_isa_name(isa);
  }
  set_max_cpu_isa(std::nullopt);
}

TEST(CpuIsa, MaxPoolRowLevelsAgreeFloat) { check_max_pool_levels<float>(); }
TEST(CpuIsa, MaxPoolRowLevelsAgreeDouble) { check_max_pool_levels<double>(); }

// The cap decides what the public ops run: large (parallel) tensors give each level's own result.
TEST(CpuIsa, CapSelectsThePathOfPublicOps) {
  Generator gen(6);
  const Array x = normal({8, 16, 28, 28}, 0, 1, kFloat32, gen);
  for (CpuIsa isa : runnable_cpu_isas()) {
    set_max_cpu_isa(isa);
    EXPECT_EQ(active_cpu_isa(), isa);
    EXPECT_EQ(&internal::vector_kernels<float>(), &vector_kernels_table(isa).f32);
    const Array tanh_x = unary(UnaryOp::kTanh, x);
    std::vector<float> want(x.numel());
    vector_kernels_table(isa).f32.unary(UnaryOp::kTanh, x.data<float>(), want.data(), x.numel());
    EXPECT_EQ(std::memcmp(tanh_x.data<float>(), want.data(), 4 * want.size()), 0) << cpu_isa_name(isa);
    const auto [pooled, at] = max_pool2d(x, Pool2dParams{}, true);
    set_max_cpu_isa(CpuIsa::kBaseline);
    const auto [pooled_base, at_base] = max_pool2d(x, Pool2dParams{}, true);
    EXPECT_EQ(std::memcmp(pooled.data<float>(), pooled_base.data<float>(), 4 * pooled.numel()), 0);
    EXPECT_EQ(std::memcmp(at.data<int64_t>(), at_base.data<int64_t>(), 8 * at.numel()), 0);
  }
  // A cap above the CPU's level means the CPU's level.
  set_max_cpu_isa(CpuIsa::kAvx512);
  EXPECT_EQ(active_cpu_isa(), detected_cpu_isa());
  set_max_cpu_isa(std::nullopt);
  std::printf("detected ISA level: %s (levels checked: %zu)\n", cpu_isa_name(detected_cpu_isa()),
              runnable_cpu_isas().size());
}

TEST(CpuIsa, EnvironmentCap) {
  ASSERT_EQ(setenv("TG_MAX_CPU_ISA", "baseline", 1), 0);
  set_max_cpu_isa(std::nullopt);
  EXPECT_EQ(active_cpu_isa(), CpuIsa::kBaseline);
  ASSERT_EQ(setenv("TG_MAX_CPU_ISA", "avx3", 1), 0);
  set_max_cpu_isa(std::nullopt);
  try {
    active_cpu_isa();
    ADD_FAILURE() << "an invalid TG_MAX_CPU_ISA was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TG_MAX_CPU_ISA='avx3' is not one of baseline, avx2, avx512"),
              std::string::npos)
        << e.what();
  }
  ASSERT_EQ(unsetenv("TG_MAX_CPU_ISA"), 0);
  set_max_cpu_isa(std::nullopt);
  EXPECT_EQ(active_cpu_isa(), detected_cpu_isa());
}

TEST(CpuIsa, Names) {
  for (CpuIsa isa : kAllCpuIsas) {
    EXPECT_EQ(parse_cpu_isa(cpu_isa_name(isa)), isa);
  }
  EXPECT_EQ(parse_cpu_isa("AVX2"), std::nullopt);
  EXPECT_EQ(parse_cpu_isa(""), std::nullopt);
}

}  // namespace
}  // namespace tg::ops
