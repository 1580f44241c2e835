// tapegrad/ops/internal/onednn_conv.h: the fast float32 convolution kernels, oneDNN primitives
// cached by shape. Called only by ops/conv.cc, which validates shapes first and keeps the
// portable reference path for everything else (float64, deterministic mode, the reference backend).
#pragma once

#include "ops/array.h"
#include "ops/conv.h"

namespace tg::ops::onednn {

// False when oneDNN cannot express the geometry exactly (then the caller uses the reference path).
bool conv2d_supported(const Shape& input, const Shape& weight, const Conv2dParams& p);

Array conv2d(const Array& input, const Array& weight, const Array& bias, const Conv2dParams& p,
             const ConvEpilogue& epilogue, WeightPacking packing);
// Note [Kernel layout] (ops/conv.h); shapes validated by the caller.
KernelArray as_kernel_array(const Array& plain);
KernelArray conv2d_in_kernel_layout(const KernelArray& input, const Array& weight, const Array& bias,
                                    const Conv2dParams& p, KernelArray residual, bool relu);
Array to_plain(const KernelArray& a, MemoryFormat format);

Array conv2d_backward_input(const Array& grad_out, const Array& weight, const Shape& input_shape,
                            const Conv2dParams& p);
Array conv2d_backward_weight(const Array& input, const Array& grad_out, const Shape& weight_shape,
                             const Conv2dParams& p);

}  // namespace tg::ops::onednn
