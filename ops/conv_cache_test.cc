// tapegrad/ops/conv_cache_test.cc: the oneDNN convolution primitive cache is bounded, and the
// geometries past its limit still convolve right. Its own binary: it fills the cache, which the
// counting tests of conv_test must not see.
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

}  // namespace
}  // namespace tg::ops
