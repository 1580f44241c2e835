// tapegrad/ops/conv.h: grad-free 2-D convolution (NCHW input, OIHW weight) with stride, padding,
// dilation and groups, its two adjoints (gradient w.r.t. input and w.r.t. weight), and the
// transposed convolution (the input adjoint applied forward, plus output_padding and bias).
#pragma once

#include "ops/array.h"

namespace tg::ops {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

// Validates shapes and attributes (naming `op` and the shapes) and returns [N, OC, OH, OW].
Shape conv2d_output_shape(const Shape& input, const Shape& weight, const Conv2dParams& p,
                          const char* op = "conv2d");
// Note [Fused convolution]: what a convolution may do to its output before writing it, in this
// order: add `residual` (an array of the output's shape and dtype, any strides), then ReLU. The
// fast path does both in oneDNN post-ops while the output is in registers (a ResNet block's
// relu(bn(conv(x)) + shortcut) with the batch norm folded, or conv + ReLU: two passes over the
// activation saved); the values are those of conv, add and relu run one after the other, to float
// rounding (oneDNN may choose another kernel for a fused primitive; NaN becomes 0 as in relu).
struct ConvEpilogue {
  Array residual;  // undefined: none
  bool relu = false;
};

// How the fast path gets the weights into its kernel's layout: reordered for this call, or from
// the packed-weight cache (Note [Packed weights] in ops/internal/onednn.h; for calls nothing will
// differentiate, i.e. inference).
enum class WeightPacking { kPerCall, kCached };

// bias may be undefined.
Array conv2d(const Array& input, const Array& weight, const Array& bias, const Conv2dParams& p,
             const ConvEpilogue& epilogue = {}, WeightPacking packing = WeightPacking::kPerCall);
// Adjoint w.r.t. the input: returns an array of input_shape.
Array conv2d_backward_input(const Array& grad_out, const Array& weight, const Shape& input_shape,
                            const Conv2dParams& p);
// Adjoint w.r.t. the weight: returns an array of weight_shape.
Array conv2d_backward_weight(const Array& input, const Array& grad_out, const Shape& weight_shape,
                             const Conv2dParams& p);

// Transposed convolution: input [N, C_in, H, W], weight [C_in, C_out / groups, KH, KW] (PyTorch's
// layout), output [N, C_out, (H - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1, ...].
// output_padding must be non-negative and smaller than the stride (it adds rows the convolution
// of the output would not read back). Validates naming `op` and returns the output shape.
Shape conv_transpose2d_output_shape(const Shape& input, const Shape& weight, const Conv2dParams& p,
                                    int64_t output_padding_h, int64_t output_padding_w,
                                    const char* op = "conv_transpose2d");
// bias may be undefined.
Array conv_transpose2d(const Array& input, const Array& weight, const Array& bias, const Conv2dParams& p,
                       int64_t output_padding_h, int64_t output_padding_w);

// How many fast-path (oneDNN) convolution primitives have been built: tests use it to check the
// fast path ran and that repeated shapes hit the cache.
int64_t fast_conv_primitives_built();
// How many packed weights the cache holds (Note [Packed weights] in ops/internal/onednn.h), those
// of dead storages dropped first.
int64_t packed_weights_held();

}  // namespace tg::ops
