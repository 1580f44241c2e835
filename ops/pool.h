// tapegrad/ops/pool.h: grad-free 2-D max and average pooling over NCHW input with kernel, stride,
// padding, dilation (max) and ceil_mode (PyTorch semantics: floor output size unless ceil_mode,
// whose extra window must start inside the input or its left padding; max ignores padding;
// average counts padding unless count_include_pad is false, or divides by divisor_override).
#pragma once

#include <utility>

#include "ops/array.h"

namespace tg::ops {

struct Pool2dParams {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_h = 0, pad_w = 0;
  bool count_include_pad = true;  // average pooling only
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
  bool ceil_mode = false;
  int64_t divisor_override = 0;  // average pooling only; 0: none
};

Shape pool2d_output_shape(const Shape& input, const Pool2dParams& p, const char* op);
// (output, int64 indices of each maximum within its H*W plane, as in torch's return_indices).
// A channels-last input gives a channels-last output and indices (Note [Channels-last max
// pooling] in pool.cc); the backward's gradient takes the indices' layout.
// with_indices false skips the indices (undefined in the result): inference has no backward to
// read them.
std::pair<Array, Array> max_pool2d(const Array& input, const Pool2dParams& p, bool with_indices = true);
// The adjoint of max_pool2d: each output gradient added at its maximum's position (indices from
// max_pool2d, trusted: in range for the plane) of a zero [N, C, H, W] array.
Array max_pool2d_backward(const Array& grad_out, const Array& indices, const Shape& input_shape);
Array avg_pool2d(const Array& input, const Pool2dParams& p);
// The adjoint of avg_pool2d: spreads each output gradient evenly over its window.
Array avg_pool2d_backward(const Array& grad_out, const Shape& input_shape, const Pool2dParams& p);

}  // namespace tg::ops
