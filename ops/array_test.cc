// tapegrad/ops/array_test.cc: views share storage and compute the right strides; reshape copies
// only when it must; broadcasting; factories; the generator is reproducible; printing.
#include "ops/array.h"

#include <cstring>
#include <limits>
#include <vector>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/elementwise.h"
#include "ops/generator.h"
#include "ops/parallel.h"
#include "ops/print.h"
#include "ops/reduce.h"

namespace tg::ops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Array iota(const Shape& shape) { return arange(0, shape_numel(shape), 1, kFloat64).view(shape); }

std::vector<double> values(const Array& a) {
  const Array c = a.contiguous();
  std::vector<double> v;
  for (int64_t i = 0; i < c.numel(); ++i) v.push_back(c.data<double>()[i]);
  return v;
}

TEST(Views, TransposeSharesStorageWithSwappedStrides) {
  Array a = iota({2, 3});
  Array t = a.transpose(0, 1);
  EXPECT_EQ(t.storage(), a.storage());
  EXPECT_EQ(t.shape(), Shape({3, 2}));
  EXPECT_EQ(t.strides(), Shape({1, 3}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_THAT(values(t), ElementsAre(0, 3, 1, 4, 2, 5));
}

TEST(Views, SliceWithStepAndNegativeBounds) {
  Array a = iota({10});
  Array s = a.slice(0, 1, -1, 3);  // 1, 4, 7
  EXPECT_EQ(s.storage(), a.storage());
  EXPECT_THAT(values(s), ElementsAre(1, 4, 7));
  EXPECT_EQ(s.strides(), Shape({3}));
  EXPECT_THAT(values(a.narrow(0, 8, 2)), ElementsAre(8, 9));
}

TEST(Views, ExpandUsesZeroStrides) {
  Array a = iota({3, 1});
  Array e = a.expand({2, 3, 4});
  EXPECT_EQ(e.strides(), Shape({0, 1, 0}));
  EXPECT_EQ(e.storage(), a.storage());
  EXPECT_EQ(values(e)[4], 1.0);
}

TEST(Views, SqueezeUnsqueezeFlatten) {
  Array a = iota({2, 1, 3});
  EXPECT_EQ(a.squeeze().shape(), Shape({2, 3}));
  EXPECT_EQ(a.squeeze(1).shape(), Shape({2, 3}));
  EXPECT_EQ(a.squeeze(0).shape(), Shape({2, 1, 3}));
  EXPECT_EQ(a.unsqueeze(-1).shape(), Shape({2, 1, 3, 1}));
  EXPECT_EQ(a.flatten().shape(), Shape({6}));
  EXPECT_EQ(a.flatten(1).shape(), Shape({2, 3}));
  EXPECT_EQ(a.flatten().storage(), a.storage());
}

TEST(Views, ReshapeIsAViewWhenStridesAllowElseACopy) {
  Array a = iota({2, 3, 4});
  Array v = a.reshape({6, -1});
  EXPECT_EQ(v.storage(), a.storage());
  EXPECT_EQ(v.shape(), Shape({6, 4}));
  Array t = a.permute({2, 0, 1});  // [4,2,3]
  Array merged_tail = t.reshape({4, 6});  // dims 1,2 of t are contiguous together: a view
  EXPECT_EQ(merged_tail.storage(), a.storage());
  Array flat = t.reshape({-1});  // not expressible: copies
  EXPECT_NE(flat.storage(), a.storage());
  EXPECT_THAT(values(flat).front(), 0);
  EXPECT_EQ(values(flat)[1], 4.0);
  EXPECT_THROW(t.view({-1}), Error);
}

TEST(Views, ContiguousCopiesOnlyWhenNeeded) {
  Array a = iota({3, 4});
  EXPECT_EQ(a.contiguous().storage(), a.storage());
  Array t = a.transpose(0, 1).contiguous();
  EXPECT_NE(t.storage(), a.storage());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_THAT(values(t), ElementsAre(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11));
}

// Note [Channels last] (ops/array.cc).
TEST(MemoryFormats, ChannelsLastStridesAndSuggestion) {
  const Array x = Array::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {1, 3, 2, 2});
  const Array last = x.contiguous(MemoryFormat::ChannelsLast);
  EXPECT_EQ(last.strides(), Shape({12, 1, 6, 3}));
  EXPECT_FALSE(last.is_contiguous());
  EXPECT_TRUE(last.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_EQ(last.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(x.suggest_memory_format(), MemoryFormat::Contiguous);
  EXPECT_EQ(last.at({0, 2, 1, 0}), 10);  // same values, another order in memory
  EXPECT_EQ(last.data<float>()[1], 4);   // [n=0, h=0, w=0, c=1]
  EXPECT_EQ(last.contiguous(MemoryFormat::ChannelsLast).data<float>(), last.data<float>()) << "no copy";
  EXPECT_EQ(last.contiguous().strides(), x.strides());
  EXPECT_EQ(last.contiguous(MemoryFormat::Preserve).data<float>(), last.data<float>());
  // One channel: both orders hold; contiguous(ChannelsLast) is a view whose exact strides say
  // channels last, so the layers after a 1-channel input keep the format.
  const Array one = Array::zeros({2, 1, 3, 3}, kFloat32);
  const Array one_last = one.contiguous(MemoryFormat::ChannelsLast);
  EXPECT_EQ(one_last.data<float>(), one.data<float>());
  EXPECT_EQ(one.suggest_memory_format(), MemoryFormat::Contiguous);
  EXPECT_EQ(one_last.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_TRUE(one_last.is_contiguous());
  EXPECT_FALSE(Array::zeros({2, 3}, kFloat32).is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_THAT([] { Array::zeros({2, 3}, kFloat32).contiguous(MemoryFormat::ChannelsLast); },
              ::testing::ThrowsMessage<Error>(HasSubstr("4-d")));
  EXPECT_EQ(empty_like(last).strides(), last.strides());
  EXPECT_EQ(empty_like(x, kFloat64).strides(), x.strides());
}

// Elementwise kernels keep a flat operand's format (and give the same values in every mix).
TEST(MemoryFormats, ElementwiseOpsKeepChannelsLast) {
  const Array a = Array::from_vector<float>({-3, 1, 2, -1, 4, 5, -6, 7, 8, 9, -10, 11}, {1, 3, 2, 2});
  const Array b = Array::full({1, 3, 2, 2}, 2.0, kFloat32);
  const Array a_last = a.contiguous(MemoryFormat::ChannelsLast), b_last = b.contiguous(MemoryFormat::ChannelsLast);
  const auto same = [](const Array& got, const Array& want) {
    const Array g = got.contiguous();
    for (int64_t i = 0; i < want.numel(); ++i)
      if (g.data<float>()[i] != want.contiguous().data<float>()[i]) return false;
    return true;
  };
  const Array relu = unary(UnaryOp::kRelu, a_last);
  EXPECT_EQ(relu.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_TRUE(same(relu, unary(UnaryOp::kRelu, a)));
  const Array sum = binary(BinaryOp::kAdd, a_last, b_last);
  EXPECT_EQ(sum.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_TRUE(same(sum, binary(BinaryOp::kAdd, a, b)));
  EXPECT_TRUE(same(binary(BinaryOp::kSub, a_last, b), binary(BinaryOp::kSub, a, b))) << "mixed formats";
  EXPECT_TRUE(same(binary(BinaryOp::kSub, a, b_last), binary(BinaryOp::kSub, a, b))) << "mixed formats";
  EXPECT_TRUE(same(binary(BinaryOp::kMul, a_last, Array::scalar(3, kFloat32)), scale(a, 3))) << "broadcast";
  EXPECT_EQ(scale(a_last, 2).suggest_memory_format(), MemoryFormat::ChannelsLast);
  const Array acc = b_last.clone().contiguous(MemoryFormat::ChannelsLast);
  add_into(acc, a, 1.0);  // contiguous into channels last
  EXPECT_TRUE(same(acc, binary(BinaryOp::kAdd, b, a)));
  add_into(acc, a_last, -1.0);
  EXPECT_TRUE(same(acc, b));
  // Global average pooling's sum reads channels-last memory in place, with the same bits.
  Generator gen(3);
  const Array x = normal({3, 5, 7, 6}, 0, 1, kFloat32, gen);
  const Array want = tg::ops::sum(x, {2, 3}, true), got = tg::ops::sum(x.contiguous(MemoryFormat::ChannelsLast), {2, 3}, true);
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(std::memcmp(got.data<float>(), want.data<float>(), want.numel() * sizeof(float)), 0);
  EXPECT_EQ(tg::ops::sum(x.contiguous(MemoryFormat::ChannelsLast), {-1, -2}, false).shape(), Shape({3, 5}));
}

TEST(Broadcasting, BinaryOpsFollowNumPyRules) {
  Array a = iota({2, 1, 3});
  Array b = iota({4, 1});
  Array c = binary(BinaryOp::kAdd, a, b);
  EXPECT_EQ(c.shape(), Shape({2, 4, 3}));
  // c[1][2][0] = a[1][0][0] + b[2][0] = 3 + 2
  EXPECT_DOUBLE_EQ(c.at({1, 2, 0}), 5.0);
  EXPECT_THROW(binary(BinaryOp::kAdd, iota({2, 3}), iota({4})), Error);
}

TEST(Broadcasting, WorksOnNonContiguousOperands) {
  Array a = iota({3, 2}).transpose(0, 1);  // [2,3] strides {1,2}
  Array b = iota({3}).slice(0, 0, 3);
  EXPECT_THAT(values(binary(BinaryOp::kMul, a, b)), ElementsAre(0, 2, 8, 0, 3, 10));
}

TEST(Factories, FullArangeAndConversion) {
  EXPECT_THAT(values(arange(1, 2, 0.25, kFloat64)), ElementsAre(1, 1.25, 1.5, 1.75));
  Array i = arange(0, 4, 1, kInt64);
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_THAT(values(i.to(kFloat64)), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(values(Array::full({2}, 7, kFloat64)), ElementsAre(7, 7));
}

TEST(Generator, SameSeedSameNumbers) {
  Generator a(42), b(42), c(43);
  EXPECT_EQ(values(normal({5}, 0, 1, kFloat64, a)), values(normal({5}, 0, 1, kFloat64, b)));
  EXPECT_NE(values(uniform({5}, 0, 1, kFloat64, a)), values(uniform({5}, 0, 1, kFloat64, c)));
}

TEST(Generator, StateRoundTripsExactly) {
  Generator g(7);
  g.normal();  // leaves a cached normal
  const Generator::State s = g.state();
  const double next = g.normal(), after = g.uniform();
  Generator h;
  h.set_state(s);
  EXPECT_EQ(h.normal(), next);
  EXPECT_EQ(h.uniform(), after);
}

TEST(Generator, NormalHasTheRightMoments) {
  Generator g(1);
  Array x = normal({100000}, 2.0, 3.0, kFloat64, g);
  const double m = sum(x, {}, false).item() / x.numel();
  Array centered = binary(BinaryOp::kSub, x, Array::scalar(m, kFloat64));
  const double var = sum(binary(BinaryOp::kMul, centered, centered), {}, false).item() / x.numel();
  EXPECT_NEAR(m, 2.0, 0.05);
  EXPECT_NEAR(var, 9.0, 0.15);
}

TEST(Reduce, SumIsDeterministicAndAccurateForLongRows) {
  Array x = Array::full({1000003}, 0.1, kFloat32);
  const double s1 = sum(x, {}, false).item(), s2 = sum(x, {}, false).item();
  EXPECT_EQ(s1, s2);
  EXPECT_NEAR(s1, 100000.3, 1.0);  // float32 accumulated in double, rounded once
}

// Summing leading dims (a bias gradient) walks the rows once, with the same bits as summing each
// column as a row of the transposed copy; for 1 and 600 columns (several column tasks), floats,
// doubles and int64.
TEST(Reduce, LeadingDimsSumEqualsTheTransposedRowSumsBitForBit) {
  Generator gen(11);
  for (DType dtype : {kFloat32, kFloat64}) {
    for (int64_t k : {1, 37, 600}) {
      const Array x = normal({40, 251, k}, 0, 1, dtype, gen);
      const Array columns = sum(x, {0, 1}, false);
      const Array rows = sum(x.permute({2, 0, 1}).contiguous(), {1, 2}, false);
      ASSERT_EQ(columns.shape(), (Shape{k}));
      ASSERT_EQ(std::memcmp(columns.data<char>(), rows.data<char>(), k * dtype_size(dtype)), 0) << k;
      EXPECT_EQ(sum(x, {0}, true).shape(), (Shape{1, 251, k}));
    }
  }
  const Array ints = arange(0, 12, 1, kInt64).reshape({3, 4});
  const Array column_sums = sum(ints, {0}, false);
  EXPECT_EQ(std::vector<int64_t>(column_sums.data<int64_t>(), column_sums.data<int64_t>() + 4),
            (std::vector<int64_t>{12, 15, 18, 21}));
}

// A channels-last tensor summed over N, H and W (a convolution's bias gradient) sums the rows of
// its [N*H*W, C] memory in fixed chunks of rows: the value of the NCHW sum to rounding (both add
// in double), the same bits at 1 and 2 threads, and no transposing copy. Shapes: one chunk, several
// with a ragged last one, one channel (not channels last then), an empty batch.
TEST(Reduce, ChannelsLastBiasGradientSum) {
  Generator gen(12);
  for (DType dtype : {kFloat32, kFloat64}) {
    for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{50, 33, 14, 14}, Shape{7, 1, 9, 9}, Shape{0, 4, 3, 3}}) {
      SCOPED_TRACE(shape_str(shape) + " " + dtype_name(dtype));
      const Array x = normal(shape, 0, 1, dtype, gen), last = x.contiguous(MemoryFormat::ChannelsLast);
      const Array want = sum(x, {0, 2, 3}, false);
      set_num_threads(1);
      const Array one = sum(last, {0, 2, 3}, false);
      set_num_threads(2);
      const Array two = sum(last, {0, 2, 3}, true);
      ASSERT_EQ(one.shape(), Shape{shape[1]});
      ASSERT_EQ(two.shape(), (Shape{1, shape[1], 1, 1}));
      EXPECT_EQ(std::memcmp(one.data<char>(), two.data<char>(), one.numel() * dtype_size(dtype)), 0);
      const Array w = want.to(kFloat64), g = one.to(kFloat64);
      for (int64_t c = 0; c < shape[1]; ++c)
        EXPECT_NEAR(g.data<double>()[c], w.data<double>()[c], dtype == kFloat32 ? 1e-4 : 1e-12) << c;
    }
  }
}

TEST(Print, LooksLikePyTorch) {
  std::ostringstream os;
  print_array(os, Array::from_vector<float>({1.5f, -2.f, 3.f, 4.25f}, {2, 2}));
  EXPECT_EQ(os.str(),
            "tensor([[ 1.5000, -2.0000],\n"
            "        [ 3.0000,  4.2500]], shape=[2,2], dtype=float32)");
  std::ostringstream ints;
  print_array(ints, arange(0, 3, 1, kInt64));
  EXPECT_EQ(ints.str(), "tensor([0, 1, 2], shape=[3], dtype=int64)");
  std::ostringstream scalar;
  print_array(scalar, Array::scalar(2, kFloat64));
  EXPECT_EQ(scalar.str(), "tensor(2., shape=[], dtype=float64)");
}

TEST(Print, SummarizesLargeTensors) {
  std::ostringstream os;
  print_array(os, arange(0, 2000, 1, kInt64));
  EXPECT_THAT(os.str(), HasSubstr("0,    1,    2, ..., 1997, 1998, 1999"));
  EXPECT_THAT(os.str(), HasSubstr("shape=[2000]"));
}

TEST(Shapes, OverflowAndNegativeDimsAreErrors) {
  EXPECT_THROW(Array::empty({-1, 2}, kFloat32), Error);
  EXPECT_THROW(Array::empty({int64_t{1} << 40, int64_t{1} << 40}, kFloat32), Error);
  try {
    Array::empty({int64_t{1} << 30, int64_t{1} << 30}, kFloat32);  // 4 EiB
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("out of range"));
  }
}


// Integer +, -, *, negation, abs and division wrap around in two's complement as PyTorch's do
// (signed overflow is undefined in C++; the ONNX fuzzer found an int64 Mul overflowing), through
// the flat and the broadcasting loops alike; the most negative value divided by -1 does not trap.
TEST(Elementwise, IntegerArithmeticWrapsAround) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  const Array a = Array::from_vector<int64_t>({kMax, kMin, 4244635649, kMin}, {4});
  const Array b = Array::from_vector<int64_t>({1, 1, 4244635649, -1}, {4});
  auto values = [](const Array& x) {
    const Array c = x.contiguous();
    return std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel());
  };
  EXPECT_EQ(values(binary(BinaryOp::kAdd, a, b)), (std::vector<int64_t>{kMin, kMin + 1, 8489271298, kMax}));
  EXPECT_EQ(values(binary(BinaryOp::kSub, a, b)), (std::vector<int64_t>{kMax - 1, kMax, 0, kMin + 1}));
  EXPECT_EQ(values(binary(BinaryOp::kMul, a, b))[2], static_cast<int64_t>(uint64_t{4244635649} * uint64_t{4244635649}));
  EXPECT_EQ(values(binary(BinaryOp::kMul, a, b))[3], kMin);
  EXPECT_EQ(values(binary(BinaryOp::kDiv, a, b))[3], kMin);
  EXPECT_EQ(values(binary(BinaryOp::kFmod, a, b))[3], 0);
  EXPECT_EQ(values(binary(BinaryOp::kFloorDivide, a, b))[3], kMin);
  EXPECT_EQ(values(unary(UnaryOp::kNeg, a))[1], kMin);
  EXPECT_EQ(values(unary(UnaryOp::kAbs, a))[1], kMin);
  // The broadcasting loop (a row times a column) gives the same products.
  const Array col = Array::from_vector<int64_t>({4244635649, kMax}, {2, 1});
  EXPECT_EQ(values(binary(BinaryOp::kMul, col, Array::from_vector<int64_t>({4244635649, 2}, {1, 2}))),
            (std::vector<int64_t>{static_cast<int64_t>(uint64_t{4244635649} * uint64_t{4244635649}), 8489271298,
                                  static_cast<int64_t>(uint64_t{kMax} * uint64_t{4244635649}), -2}));
}

}  // namespace
}  // namespace tg::ops
