// tapegrad/ops/conv_test.cc: the fast float32 convolution path (oneDNN) agrees with the reference
// path (im2col + BLAS) for forward, backward-data and backward-weights over strides, padding,
// dilation, groups, bias, odd sizes, non-contiguous and channels-last inputs; repeated shapes reuse
// the cache and a thread-count change builds new primitives.
#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "ops/backend.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/parallel.h"
#include "ops/testing/error_of.h"
#include "ops/testing/random_array.h"

namespace tg::ops {
namespace {

using testing::random_array;

struct ConvCase {
  Shape input, weight;
  Conv2dParams p;
  bool bias;
};

// max |a - b| / (1 + max |b|)
double relative_gap(const Array& a, const Array& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const Array x = a.contiguous(), y = b.contiguous();
  double gap = 0, scale = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    gap = std::max(gap, std::abs(double(x.data<float>()[i]) - y.data<float>()[i]));
    scale = std::max(scale, std::abs(double(y.data<float>()[i])));
  }
  return gap / (1 + scale);
}

class FastConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(FastConv, AgreesWithReference) {
  const ConvCase& c = GetParam();
  const Array x = random_array(c.input, 1), w = random_array(c.weight, 2);
  const Array b = c.bias ? random_array({c.weight[0]}, 3) : Array();
  const Shape out_shape = conv2d_output_shape(c.input, c.weight, c.p);
  const Array gy = random_array(out_shape, 4);
  Array ref_y, ref_gx, ref_gw;
  {
    BackendGuard reference(Backend::kReference);
    ref_y = conv2d(x, w, b, c.p);
    ref_gx = conv2d_backward_input(gy, w, c.input, c.p);
    ref_gw = conv2d_backward_weight(x, gy, c.weight, c.p);
  }
  set_num_threads(get_num_threads());  // a fixed team: an adaptive one could build more (Note [Sharing the cores])
  const int64_t built = fast_conv_primitives_built();
  for (int repeat = 0; repeat < 2; ++repeat) {  // the second round runs cached primitives
    EXPECT_LT(relative_gap(conv2d(x, w, b, c.p), ref_y), 1e-5) << "forward";
    EXPECT_LT(relative_gap(conv2d_backward_input(gy, w, c.input, c.p), ref_gx), 1e-5) << "backward data";
    EXPECT_LT(relative_gap(conv2d_backward_weight(x, gy, c.weight, c.p), ref_gw), 1e-5) << "backward weights";
    EXPECT_EQ(fast_conv_primitives_built(), built + 3) << "the fast path built one primitive per kind, once";
  }
}

// Note [Channels last] (ops/array.cc): channels-last activations run oneDNN's NHWC kernels, give
// the reference's values, and the outputs keep their activation's format.
TEST_P(FastConv, ChannelsLastAgreesWithReference) {
  const ConvCase& c = GetParam();
  const Array x = random_array(c.input, 1), w = random_array(c.weight, 2);
  const Array b = c.bias ? random_array({c.weight[0]}, 3) : Array();
  const Array gy = random_array(conv2d_output_shape(c.input, c.weight, c.p), 4);
  const Array x_last = x.contiguous(MemoryFormat::ChannelsLast), gy_last = gy.contiguous(MemoryFormat::ChannelsLast);
  Array ref_y, ref_gx, ref_gw;
  {
    BackendGuard reference(Backend::kReference);
    ref_y = conv2d(x, w, b, c.p);
    ref_gx = conv2d_backward_input(gy, w, c.input, c.p);
    ref_gw = conv2d_backward_weight(x, gy, c.weight, c.p);
  }
  const Array y = conv2d(x_last, w, b, c.p), gx = conv2d_backward_input(gy_last, w, c.input, c.p);
  EXPECT_EQ(y.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(gx.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_LT(relative_gap(y, ref_y), 1e-5) << "forward";
  EXPECT_LT(relative_gap(gx, ref_gx), 1e-5) << "backward data";
  EXPECT_LT(relative_gap(conv2d_backward_weight(x_last, gy_last, c.weight, c.p), ref_gw), 1e-5) << "backward weights";
  // Mixed formats: the gradient is reordered to the input's format.
  EXPECT_LT(relative_gap(conv2d_backward_weight(x_last, gy, c.weight, c.p), ref_gw), 1e-5) << "mixed backward weights";
  EXPECT_LT(relative_gap(conv2d_backward_weight(x, gy_last, c.weight, c.p), ref_gw), 1e-5) << "mixed backward weights";
}

// Note [Fused convolution]: the epilogue (residual sum, ReLU) in oneDNN post-ops gives the values
// of conv, add and relu run one after the other (to float rounding), in either memory format, with
// the residual in either format, and the reference path agrees.
TEST_P(FastConv, EpilogueEqualsSeparateOps) {
  const ConvCase& c = GetParam();
  const Array x = random_array(c.input, 1), w = random_array(c.weight, 2);
  const Array b = c.bias ? random_array({c.weight[0]}, 3) : Array();
  const Array r = random_array(conv2d_output_shape(c.input, c.weight, c.p), 4);
  for (MemoryFormat format : {MemoryFormat::Contiguous, MemoryFormat::ChannelsLast}) {
    const Array xf = x.contiguous(format);
    for (const Array& residual : {Array(), r, r.contiguous(MemoryFormat::ChannelsLast)}) {
      for (bool relu : {false, true}) {
        if (!residual.defined() && !relu) continue;
        Array want = conv2d(xf, w, b, c.p);
        if (residual.defined()) want = binary(BinaryOp::kAdd, want, residual);
        if (relu) want = unary(UnaryOp::kRelu, want);
        const Array got = conv2d(xf, w, b, c.p, {residual, relu});
        const std::string what = std::string(memory_format_name(format)) + (residual.defined() ? " + residual" : "") +
                                 (relu ? " relu" : "");
        EXPECT_EQ(got.suggest_memory_format(), xf.suggest_memory_format()) << what;
        EXPECT_LT(relative_gap(got, want), 1e-6) << what;  // ulps: oneDNN may pick another kernel
        BackendGuard reference(Backend::kReference);
        EXPECT_LT(relative_gap(conv2d(xf, w, b, c.p, {residual, relu}), want), 1e-5) << what << ", reference path";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, FastConv,
    ::testing::Values(ConvCase{{50, 1, 28, 28}, {16, 1, 5, 5}, {1, 1, 2, 2, 1, 1, 1}, true},   // cnn_small conv1
                      ConvCase{{50, 16, 14, 14}, {32, 16, 5, 5}, {1, 1, 2, 2, 1, 1, 1}, true},  // cnn_small conv2
                      ConvCase{{3, 4, 9, 7}, {6, 4, 3, 2}, {2, 3, 1, 0, 1, 1, 1}, false},       // strides, ragged
                      ConvCase{{2, 6, 11, 10}, {9, 2, 3, 3}, {1, 2, 2, 1, 2, 1, 3}, true},      // dilation, groups
                      ConvCase{{1, 3, 8, 8}, {3, 1, 3, 3}, {2, 2, 1, 1, 1, 1, 3}, false},       // depthwise
                      ConvCase{{4, 2, 5, 5}, {2, 2, 5, 5}, {1, 1, 0, 0, 1, 1, 1}, true},        // 1x1 output
                      ConvCase{{2, 3, 6, 6}, {4, 3, 1, 1}, {3, 3, 0, 0, 1, 1, 1}, false}));     // floor drops rows

// A residual of another shape or dtype is refused, naming both; NaN and -inf reach the fused ReLU
// as they reach relu (both give 0, tapegrad's relu of NaN).
// Note [Kernel layout]: a chain of convolutions kept in the kernel's layout gives conv2d's values
// (with its epilogue) in either plain format, from NCHW or channels-last input, with channel counts
// that fill the blocked layout's blocks and ones that leave them padded (20, 3), residuals in the
// kernel's layout and plain (the latter reordered into it), strides and biases.
TEST(FastConvInputs, KernelLayoutChainsEqualPlainConvolutions) {
  const Conv2dParams same{1, 1, 1, 1, 1, 1, 1}, down{2, 2, 1, 1, 1, 1, 1}, pointwise{2, 2, 0, 0, 1, 1, 1};
  for (int64_t channels : {16, 20}) {
    for (bool last : {false, true}) {
      SCOPED_TRACE(std::to_string(channels) + (last ? " channels last" : " nchw"));
      Array x = random_array({2, 3, 12, 12}, 1);
      if (last) x = x.contiguous(MemoryFormat::ChannelsLast);
      const Array w0 = random_array({channels, 3, 3, 3}, 2), b0 = random_array({channels}, 3);
      const Array w1 = random_array({channels, channels, 3, 3}, 4);
      const Array w2 = random_array({2 * channels, channels, 3, 3}, 5), ws = random_array({2 * channels, channels, 1, 1}, 6);
      const Array plain_residual = random_array({2, channels, 12, 12}, 7);
      // stem: conv + bias + relu; block: conv + residual (the stem's output) + relu; then a plain
      // residual; then a strided conv whose residual is a strided 1x1 projection.
      const KernelArray k0 = conv2d_in_kernel_layout(as_kernel_array(x), w0, b0, same, {}, true);
      const KernelArray k1 = conv2d_in_kernel_layout(k0, w1, Array(), same, k0, true);
      const KernelArray k2 = conv2d_in_kernel_layout(k1, w1, Array(), same, as_kernel_array(plain_residual), false);
      const KernelArray ks = conv2d_in_kernel_layout(k2, ws, Array(), pointwise, {}, false);
      const KernelArray k3 = conv2d_in_kernel_layout(k2, w2, Array(), down, ks, true);

      const Array r0 = conv2d(x, w0, b0, same, {Array(), true});
      const Array r1 = conv2d(r0, w1, Array(), same, {r0, true});
      const Array r2 = conv2d(r1, w1, Array(), same, {plain_residual, false});
      const Array rs = conv2d(r2, ws, Array(), pointwise);
      const Array r3 = conv2d(r2, w2, Array(), down, {rs, true});
      for (auto [k, r] : {std::pair{&k0, &r0}, {&k1, &r1}, {&k2, &r2}, {&ks, &rs}, {&k3, &r3}}) {
        EXPECT_EQ(k->shape, r->shape());
        EXPECT_LT(relative_gap(to_plain(*k, MemoryFormat::Contiguous), *r), 1e-5);
        const Array cl = to_plain(*k, MemoryFormat::ChannelsLast);
        EXPECT_TRUE(cl.is_contiguous(MemoryFormat::ChannelsLast));
        EXPECT_LT(relative_gap(cl, *r), 1e-5);
      }
    }
  }
}

// A residual in the output's layout that nothing else holds (moved in) becomes the output: the
// sum post-op adds into its buffer. One still held elsewhere is copied and comes out unchanged.
TEST(FastConvInputs, KernelLayoutResidualMovedInIsAddedInPlace) {
  const Conv2dParams same{1, 1, 1, 1, 1, 1, 1};
  const Array x = random_array({2, 16, 10, 10}, 1), w = random_array({16, 16, 3, 3}, 2);
  const KernelArray input = conv2d_in_kernel_layout(as_kernel_array(x), w, Array(), same, {}, false);
  const Array input_plain = to_plain(input, MemoryFormat::Contiguous);
  const Array want = conv2d(input_plain, w, Array(), same, {conv2d(input_plain, w, Array(), same), true});

  KernelArray residual = conv2d_in_kernel_layout(input, w, Array(), same, {}, false);
  const float* residual_bytes = residual.bytes.data<float>();
  const KernelArray in_place = conv2d_in_kernel_layout(input, w, Array(), same, std::move(residual), true);
  EXPECT_EQ(in_place.bytes.data<float>(), residual_bytes);
  EXPECT_LT(relative_gap(to_plain(in_place, MemoryFormat::Contiguous), want), 1e-5);

  const KernelArray held = conv2d_in_kernel_layout(input, w, Array(), same, {}, false);
  const Array held_before = to_plain(held, MemoryFormat::Contiguous);
  KernelArray copy = held;
  const KernelArray copied = conv2d_in_kernel_layout(input, w, Array(), same, std::move(copy), true);
  EXPECT_NE(copied.bytes.data<float>(), held.bytes.data<float>());
  EXPECT_EQ(relative_gap(to_plain(held, MemoryFormat::Contiguous), held_before), 0);
  EXPECT_LT(relative_gap(to_plain(copied, MemoryFormat::Contiguous), want), 1e-5);
  // The input as its own residual is never written over.
  KernelArray input_again = input;
  const KernelArray self = conv2d_in_kernel_layout(input, w, Array(), same, std::move(input_again), false);
  EXPECT_EQ(relative_gap(to_plain(input, MemoryFormat::Contiguous), input_plain), 0);
  EXPECT_NE(self.bytes.data<float>(), input.bytes.data<float>());
}

TEST(FastConvInputs, KernelLayoutChecks) {
  const KernelArray x = as_kernel_array(random_array({1, 4, 6, 6}, 1));
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  EXPECT_NE(error_of([&] { conv2d_in_kernel_layout(x, random_array({8, 3, 3, 3}, 2), Array(), p, {}, false); })
                .find("expects"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              conv2d_in_kernel_layout(x, random_array({8, 4, 3, 3}, 2), Array(), p,
                                      as_kernel_array(random_array({1, 8, 6, 5}, 3)), false);
            }).find("residual [1,8,6,5] must match the output [1,8,6,6]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { as_kernel_array(random_array({4, 6, 6}, 1)); }).find("4-D float32"), std::string::npos);
}

TEST(FastConvInputs, EpilogueResidualChecks) {
  const Array x = random_array({2, 3, 6, 6}, 5), w = random_array({4, 3, 3, 3}, 6);
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  try {
    conv2d(x, w, Array(), p, {random_array({2, 4, 6, 5}, 7), true});
    ADD_FAILURE() << "a residual of the wrong shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("residual [2,4,6,5] float32 must match the output [2,4,6,6] float32"),
              std::string::npos) << e.what();
  }
  Array r = random_array({2, 4, 6, 6}, 8);
  r.data<float>()[5] = std::nanf("");
  r.data<float>()[6] = -std::numeric_limits<float>::infinity();
  const Array got = conv2d(x, w, Array(), p, {r, true});
  const Array want = unary(UnaryOp::kRelu, binary(BinaryOp::kAdd, conv2d(x, w, Array(), p), r));
  for (int i : {5, 6}) {
    EXPECT_EQ(want.data<float>()[i], 0) << i;
    EXPECT_EQ(got.data<float>()[i], 0) << i;
  }
}

TEST(FastConvInputs, NonContiguousInputsAndEmptyBatches) {
  const Array x = random_array({3, 2, 6, 6}, 5).permute({0, 1, 3, 2});  // a transposed view
  const Array w = random_array({4, 2, 3, 3}, 6);
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  Array ref;
  {
    BackendGuard reference(Backend::kReference);
    ref = conv2d(x, w, Array(), p);
  }
  EXPECT_LT(relative_gap(conv2d(x, w, Array(), p), ref), 1e-5);
  EXPECT_EQ(conv2d(Array::zeros({0, 2, 6, 6}, kFloat32), w, Array(), p).shape(), Shape({0, 4, 6, 6}));
}

// A transposed convolution of a channels-last input is channels last, its bias added per channel.
TEST(FastConvInputs, ChannelsLastTransposedConvolutionWithBias) {
  const Array x = random_array({2, 4, 5, 6}, 9), w = random_array({4, 3, 3, 3}, 10), b = random_array({3}, 11);
  const Conv2dParams p{2, 2, 1, 1, 1, 1, 1};
  const Array want = conv_transpose2d(x, w, b, p, 1, 0);
  const Array got = conv_transpose2d(x.contiguous(MemoryFormat::ChannelsLast), w, b, p, 1, 0);
  EXPECT_EQ(got.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_LT(relative_gap(got, want), 1e-6);
}

// oneDNN fixes a primitive's work split for the thread count it was built under; a later
// set_num_threads must get primitives built for the new count (results unchanged). A convolution
// large enough to be shared (small ones run on one thread whatever the count).
TEST(FastConvInputs, ThreadCountChangeBuildsNewPrimitives) {
  const Array x = random_array({8, 16, 20, 20}, 7), w = random_array({32, 16, 3, 3}, 8);
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  const int threads = get_num_threads();
  set_num_threads(1);
  const Array one = conv2d(x, w, Array(), p);
  const int64_t built = fast_conv_primitives_built();
  set_num_threads(2);
  const Array two = conv2d(x, w, Array(), p);
  EXPECT_EQ(fast_conv_primitives_built(), built + 1);
  EXPECT_LT(relative_gap(two, one), 1e-6);
  conv2d(x, w, Array(), p);
  EXPECT_EQ(fast_conv_primitives_built(), built + 1) << "the 2-thread primitive is cached";
  const Array small_x = random_array({1, 3, 10, 10}, 9), small_w = random_array({5, 3, 3, 3}, 10);
  const Array small = conv2d(small_x, small_w, Array(), p);
  const int64_t with_small = fast_conv_primitives_built();
  set_num_threads(1);
  EXPECT_LT(relative_gap(conv2d(small_x, small_w, Array(), p), small), 1e-6);
  EXPECT_EQ(fast_conv_primitives_built(), with_small) << "a small convolution runs on one thread at any count";
  set_num_threads(threads);
}

}  // namespace
}  // namespace tg::ops
