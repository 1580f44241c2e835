// tapegrad/ops/pool_test.cc: the 2x2/2 max-pool kernel (vectorized rows, AVX-512 for float where
// the target has it) against a naive first-maximum loop written here: values bit for bit and
// indices, for float and double, ragged row lengths (1 to 33 outputs, odd input sizes), ties
// (zeros of both signs), NaNs, with and without indices, 1 and 2 threads; and its backward. Max
// pooling of channels-last input (Note [Channels-last max pooling] in pool.cc) against the NCHW
// kernel, any window: the same values, indices and gradient bit for bit, results channels last.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "ops/parallel.h"
#include "ops/pool.h"

namespace tg::ops {
namespace {

// Values drawn from a small set so that windows often tie: -1, -0.0, +0.0, 1, 2 and NaN.
template <typename T>
Array tie_heavy(const Shape& shape, uint32_t seed, bool with_nans) {
  std::mt19937 gen(seed);
  const T pool[] = {T(-1), T(-0.0), T(0.0), T(1), T(2), std::numeric_limits<T>::quiet_NaN()};
  std::uniform_int_distribution<int> pick(0, with_nans ? 5 : 4);
  Array a = Array::empty(shape, dtype_of<T>());
  for (int64_t i = 0; i < a.numel(); ++i) a.data<T>()[i] = pool[pick(gen)];
  return a;
}

// The definition: scan the window in row-major order; take v if v > best or v is NaN.
template <typename T>
void naive_max_pool_2x2(const Array& x, std::vector<T>* values, std::vector<int64_t>* indices) {
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3), oh = h / 2, ow = w / 2;
  for (int64_t pl = 0; pl < planes; ++pl) {
    const T* src = x.data<T>() + pl * h * w;
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t xo = 0; xo < ow; ++xo) {
        int64_t at = 2 * y * w + 2 * xo;
        for (const int64_t i : {2 * y * w + 2 * xo + 1, (2 * y + 1) * w + 2 * xo, (2 * y + 1) * w + 2 * xo + 1}) {
          if (src[i] > src[at] || std::isnan(src[i])) at = i;
        }
        values->push_back(src[at]);
        indices->push_back(at);
      }
    }
  }
}

template <typename T>
void expect_matches_naive(const Shape& shape, bool with_nans, uint32_t seed) {
  const Array x = tie_heavy<T>(shape, seed, with_nans);
  std::vector<T> want;
  std::vector<int64_t> want_indices;
  naive_max_pool_2x2<T>(x, &want, &want_indices);
  for (const bool with_indices : {true, false}) {
    auto [out, indices] = max_pool2d(x, Pool2dParams{}, with_indices);
    ASSERT_EQ(out.numel(), static_cast<int64_t>(want.size()));
    for (int64_t i = 0; i < out.numel(); ++i) {
      // Bit for bit: the sign of a zero and the NaN chosen both count.
      ASSERT_EQ(std::memcmp(&out.data<T>()[i], &want[i], sizeof(T)), 0)
          << shape_str(shape) << " output " << i << ": " << out.data<T>()[i] << " vs " << want[i];
      if (with_indices) {
        ASSERT_EQ(indices.data<int64_t>()[i], want_indices[i]) << shape_str(shape) << " output " << i;
      }
    }
  }
}

class MaxPool2x2 : public ::testing::TestWithParam<int> {};  // the thread count

TEST_P(MaxPool2x2, MatchesNaiveDefinition) {
  const int threads = get_num_threads();
  set_num_threads(GetParam());
  uint32_t seed = 0;
  for (const int64_t w : {2, 3, 14, 15, 28, 32, 33, 34, 66, 67}) {  // 1 to 33 outputs per row
    for (const bool nans : {false, true}) {
      expect_matches_naive<float>({2, 3, 5, w}, nans, ++seed);
      expect_matches_naive<double>({2, 3, 4, w}, nans, ++seed);
    }
  }
  expect_matches_naive<float>({50, 16, 28, 28}, true, ++seed);  // cnn_small's shape: the parallel loop
  set_num_threads(threads);
}

INSTANTIATE_TEST_SUITE_P(Threads, MaxPool2x2, ::testing::Values(1, 2));

TEST(MaxPool2x2, NonContiguousInput) {
  const Array x = tie_heavy<float>({2, 3, 9, 12}, 99, true).permute({0, 1, 3, 2});  // [2,3,12,9] view
  std::vector<float> want;
  std::vector<int64_t> want_indices;
  naive_max_pool_2x2<float>(x.contiguous(), &want, &want_indices);
  auto [out, indices] = max_pool2d(x, Pool2dParams{});
  for (int64_t i = 0; i < out.numel(); ++i) {
    ASSERT_EQ(std::memcmp(&out.data<float>()[i], &want[i], sizeof(float)), 0) << i;
    ASSERT_EQ(indices.data<int64_t>()[i], want_indices[i]) << i;
  }
}

TEST(MaxPool2x2, BackwardAddsEachGradientAtItsMaximum) {
  const Shape shape = {2, 3, 6, 14};
  const Array x = tie_heavy<float>(shape, 7, false);
  auto [out, indices] = max_pool2d(x, Pool2dParams{});
  Array grad = Array::empty(out.shape(), kFloat32);
  for (int64_t i = 0; i < grad.numel(); ++i) grad.data<float>()[i] = float(i + 1);
  const Array dx = max_pool2d_backward(grad, indices, shape);
  std::vector<float> want(x.numel(), 0.0f);
  std::vector<float> values;
  std::vector<int64_t> at;
  naive_max_pool_2x2<float>(x, &values, &at);
  const int64_t plane = shape[2] * shape[3], outputs = out.size(2) * out.size(3);
  for (int64_t i = 0; i < grad.numel(); ++i) want[(i / outputs) * plane + at[i]] += float(i + 1);
  for (int64_t i = 0; i < dx.numel(); ++i) ASSERT_EQ(dx.data<float>()[i], want[i]) << i;
}

Pool2dParams window(int64_t k, int64_t s, int64_t pad, int64_t dilation, bool ceil) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dilation;
  p.ceil_mode = ceil;
  return p;
}

// Same bits, element by element in logical order (zero signs and NaNs included).
bool same_bits(const Array& a, const Array& b) {
  const Array x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.raw_data(), y.raw_data(), x.numel() * dtype_size(x.dtype())) == 0;
}

template <typename T>
void expect_channels_last_matches_nchw(int64_t channels, const Pool2dParams& p, uint32_t seed) {
  const Shape shape = {3, channels, 7, 9};
  Array nchw = tie_heavy<T>(shape, seed, true);
  const int64_t image = nchw.numel() / shape[0];
  for (int64_t i = 0; i < image; ++i) nchw.data<T>()[image + i] = -std::numeric_limits<T>::infinity();  // image 1
  const Array nhwc = nchw.contiguous(MemoryFormat::ChannelsLast);
  ASSERT_TRUE(is_channels_last(nhwc));
  const auto [want, want_at] = max_pool2d(nchw, p);
  const auto [got, got_at] = max_pool2d(nhwc, p);
  EXPECT_TRUE(is_channels_last(got) && is_channels_last(got_at));
  EXPECT_TRUE(same_bits(got, want)) << "values";
  EXPECT_TRUE(same_bits(got_at, want_at)) << "indices";
  const auto [alone, none] = max_pool2d(nhwc, p, /*with_indices=*/false);
  EXPECT_FALSE(none.defined());
  EXPECT_TRUE(same_bits(alone, want)) << "values without indices";
  const Array g = tie_heavy<T>(want.shape(), seed + 1, false);
  const Array grad_want = max_pool2d_backward(g, want_at, shape);
  const Array grad_got = max_pool2d_backward(g.contiguous(MemoryFormat::ChannelsLast), got_at, shape);
  EXPECT_TRUE(is_channels_last(grad_got));
  EXPECT_TRUE(same_bits(grad_got, grad_want)) << "gradient";
  EXPECT_TRUE(same_bits(max_pool2d_backward(g, got_at, shape), grad_want)) << "gradient given in NCHW";
}

TEST_P(MaxPool2x2, ChannelsLastMatchesNchw) {
  const int threads = get_num_threads();
  set_num_threads(GetParam());
  const std::pair<const char*, Pool2dParams> windows[] = {{"2x2", window(2, 2, 0, 1, false)},
                                                          {"3x3 stride 2 pad 1", window(3, 2, 1, 1, false)},
                                                          {"2x2 dilation 2 pad 1 ceil", window(2, 2, 1, 2, true)},
                                                          {"3x3 stride 1", window(3, 1, 0, 1, false)}};
  uint32_t seed = 100;
  for (const int64_t channels : {2, 3, 16, 17, 33}) {
    for (const auto& [name, p] : windows) {
      SCOPED_TRACE(std::string(name) + ", channels " + std::to_string(channels));
      expect_channels_last_matches_nchw<float>(channels, p, ++seed);
      expect_channels_last_matches_nchw<double>(channels, p, ++seed);
    }
  }
  set_num_threads(threads);
}

TEST(MaxPool2x2, ChannelsLastEmptyBatch) {
  const Array x = Array::empty({0, 4, 6, 6}, kFloat32, MemoryFormat::ChannelsLast);
  const auto [out, at] = max_pool2d(x, Pool2dParams{});
  EXPECT_EQ(out.shape(), Shape({0, 4, 3, 3}));
  EXPECT_EQ(max_pool2d_backward(out, at, x.shape()).shape(), x.shape());
}

}  // namespace
}  // namespace tg::ops
