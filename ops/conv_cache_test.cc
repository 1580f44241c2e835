// tapegrad/ops/conv_cache_test.cc: the oneDNN convolution primitive cache is bounded, and the
// geometries past its limit still convolve right; packed inference weights (Note [Packed
// weights] in ops/internal/onednn.h) are served only while the weights are unchanged. Its own
// binary: it fills the caches, which the counting tests of conv_test must not see.
#include <cmath>

#include "gtest/gtest.h"
#include "ops/backend.h"
#include "ops/conv.h"
#include "ops/testing/random_array.h"

namespace tg::ops {
namespace {

using testing::random_array;

double max_gap(const Array& a, const Array& b) {
  double gap = 0;
  for (int64_t i = 0; i < a.numel(); ++i) gap = std::max(gap, std::abs(double(a.data<float>()[i]) - b.data<float>()[i]));
  return gap;
}

// More geometries than the primitive cache keeps: the ones past its limit are built per call and
// are just as right.
TEST(FastConvInputs, GeometriesBeyondTheCacheLimitStayCorrect) {
  const Array w = random_array({2, 1, 3, 3}, 9);
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  for (int64_t width = 1; width <= 530; ++width) {
    const Array x = random_array({1, 1, 2, width}, static_cast<uint32_t>(width));
    Array ref;
    {
      BackendGuard reference(Backend::kReference);
      ref = conv2d(x, w, Array(), p);
    }
    ASSERT_LT(max_gap(conv2d(x, w, Array(), p), ref), 1e-5) << "width " << width;
  }
  EXPECT_EQ(fast_conv_primitives_built(), 512) << "the cache is bounded, and these geometries filled it";
}

// A geometry whose kernel wants blocked weights (so they are reordered, and packed when cached),
// channels last as on the inference path of the ResNet benchmarks.
struct Blocked {
  Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  Array x = random_array({1, 16, 12, 12}, 1).contiguous(MemoryFormat::ChannelsLast);
  Array conv(const Array& w, WeightPacking packing) const { return conv2d(x, w, Array(), p, {}, packing); }
};

TEST(PackedWeights, ServedUntilTheWeightsChange) {
  const Blocked b;
  const Array w = random_array({32, 16, 3, 3}, 2);
  const Array fresh = b.conv(w, WeightPacking::kPerCall);
  const int64_t held = packed_weights_held();
  EXPECT_EQ(max_gap(b.conv(w, WeightPacking::kCached), fresh), 0);
  EXPECT_EQ(packed_weights_held(), held + 1) << "the weights were packed once";
  EXPECT_EQ(max_gap(b.conv(w, WeightPacking::kCached), fresh), 0);
  EXPECT_EQ(packed_weights_held(), held + 1) << "and served again";

  // A write that bumps the version, as in-place ops, optimizer steps, nn::init and loaders do.
  copy_into(w, random_array({32, 16, 3, 3}, 3));
  w.storage()->bump_version("test");
  const Array changed = b.conv(w, WeightPacking::kPerCall);
  ASSERT_GT(max_gap(changed, fresh), 0.1);
  EXPECT_EQ(max_gap(b.conv(w, WeightPacking::kCached), changed), 0) << "stale packed weights";
  EXPECT_EQ(packed_weights_held(), held + 1) << "the stale copy was replaced, not kept";

  // So is a raw write followed by the bump (Tensor::increment_version).
  w.data<float>()[0] += 5.0f;
  w.storage()->bump_version("test");
  EXPECT_EQ(max_gap(b.conv(w, WeightPacking::kCached), b.conv(w, WeightPacking::kPerCall)), 0);
}

// Freed weights leave the cache, and new weights at a recycled address (the storage cache hands the
// same block out again) are never served the old packing.
TEST(PackedWeights, NewWeightsAtARecycledAddressArePackedAfresh) {
  const Blocked b;
  const int64_t held = packed_weights_held();
  const void* first_address = nullptr;
  uint64_t first_version = 0;
  {
    const Array w = random_array({32, 16, 3, 3}, 4);
    first_address = w.raw_data();
    first_version = w.storage()->version();
    b.conv(w, WeightPacking::kCached);
  }
  // No look at the cache in between (that would drop the dead slot first).
  const Array other = random_array({32, 16, 3, 3}, 5);
  EXPECT_EQ(other.raw_data(), first_address) << "the storage cache recycles the block (the case tested here)";
  EXPECT_EQ(other.storage()->version(), first_version) << "and the new weights have the old ones' version";
  EXPECT_EQ(max_gap(b.conv(other, WeightPacking::kCached), b.conv(other, WeightPacking::kPerCall)), 0);
  EXPECT_EQ(packed_weights_held(), held + 1) << "the dead weights' packing was dropped";
}

// A view into a larger buffer is keyed by its own address: two slices of one storage are two
// weights.
TEST(PackedWeights, ViewsOfOneStorageAreDistinctWeights) {
  const Blocked b;
  const Array both = random_array({2, 32, 16, 3, 3}, 6);
  const Array first = both.slice(0, 0, 1).squeeze(0), second = both.slice(0, 1, 2).squeeze(0);
  const Array a = b.conv(first, WeightPacking::kCached), c = b.conv(second, WeightPacking::kCached);
  EXPECT_EQ(max_gap(a, b.conv(first, WeightPacking::kPerCall)), 0);
  EXPECT_EQ(max_gap(c, b.conv(second, WeightPacking::kPerCall)), 0);
  EXPECT_GT(max_gap(a, c), 0.1);
}

}  // namespace
}  // namespace tg::ops
