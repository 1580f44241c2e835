// tapegrad/ops/conv.h: grad-free 2-D convolution (NCHW input, OIHW weight) with stride, padding,
// dilation and groups, its two adjoints (gradient w.r.t. input and w.r.t. weight), and the
// transposed convolution (the input adjoint applied forward, plus output_padding and bias).
#pragma once

#include <memory>

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

// Note [Kernel layout]: the layout a convolution kernel likes best for its activations (oneDNN's
// blocked nChw16c on AVX-512, nChw8c on AVX2) is not a strided layout, so tensors never hold it:
// each fast-path call reorders NCHW activations into it and back (two passes per convolution), or
// uses NHWC kernels, which are ~15 % slower than the blocked ones at ResNet-8's sizes. A chain of
// inference convolutions that hand their outputs only to one another (a ResNet body imported from
// ONNX) can instead keep them in the kernel's layout: a KernelArray holds such an activation (its
// bytes, logical NCHW shape and an opaque layout). conv2d_in_kernel_layout takes input and residual
// plain or in a kernel layout, reorders only where the kernel wants another one, and returns its
// output in the kernel's layout; to_plain converts back. Inference only: the weights come from the
// packed-weight cache and nothing is differentiable. The values are conv2d's, to float rounding.
struct KernelLayout;  // a oneDNN memory descriptor (ops/onednn_conv.cc)
struct KernelArray {
  Array bytes;  // 1-D float32, the layout's size
  Shape shape;  // [N, C, H, W]
  std::shared_ptr<const KernelLayout> layout;
  bool defined() const { return bytes.defined(); }
};

// Whether conv2d_in_kernel_layout runs this float32 geometry (the fast path is on and oneDNN takes it).
bool kernel_layout_supported(const Shape& input, const Shape& weight, const Conv2dParams& p);
// A 4-D float32 array as it is (NCHW contiguous or channels last; other strides are copied to NCHW).
KernelArray as_kernel_array(const Array& plain);
// relu?(conv2d(input, weight, bias) + residual?) in the kernel's output layout. residual may be
// undefined; input and residual shapes are checked as conv2d checks them. When nothing else holds
// the residual's bytes (pass it with std::move) and they are in the output's layout, the output is
// written into them (the sum post-op adds in place) instead of a copy of them.
KernelArray conv2d_in_kernel_layout(const KernelArray& input, const Array& weight, const Array& bias,
                                    const Conv2dParams& p, KernelArray residual, bool relu);
// A new array with a's values, in `format` (Contiguous or ChannelsLast).
Array to_plain(const KernelArray& a, MemoryFormat format);

// How many fast-path (oneDNN) convolution primitives have been built: tests use it to check the
// fast path ran and that repeated shapes hit the cache.
int64_t fast_conv_primitives_built();
// How many packed weights the cache holds (Note [Packed weights] in ops/internal/onednn.h), those
// of dead storages dropped first.
int64_t packed_weights_held();

}  // namespace tg::ops
