// tapegrad/io/onnx_convert_nn.cc: ONNX layers: Conv, ConvTranspose, MaxPool, AveragePool,
// Global{Average,Max}Pool, BatchNormalization, InstanceNormalization, LayerNormalization, Gemm,
// MatMul. 1-d convolutions and pools run as 2-d ones over a height of 1 (one code path); ONNX's
// per-side pads and auto_pad become an explicit pad() where tapegrad's symmetric padding cannot
// say them. 3-d (volumetric) forms are refused by name.
#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "io/onnx_converters.h"
#include "ops/conv.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

// Spatial settings of one conv/pool node, always two spatial dims (a 1-d node gets h = 1).
struct Window {
  int64_t spatial = 2;  // 1 or 2: the node's own spatial rank
  int64_t kernel[2] = {1, 1}, stride[2] = {1, 1}, dilation[2] = {1, 1};
  int64_t pad_begin[2] = {0, 0}, pad_end[2] = {0, 0};
  bool symmetric() const { return pad_begin[0] == pad_end[0] && pad_begin[1] == pad_end[1]; }
};

// x as [N, C, H, W]: a 1-d input [N, C, L] gets H = 1.
Tensor as_2d(const Tensor& x, int64_t spatial) { return spatial == 1 ? unsqueeze(x, 2) : x; }
Tensor from_2d(const Tensor& y, int64_t spatial) { return spatial == 1 ? squeeze(y, 2) : y; }

// Reads kernel_shape (or the weight's), strides, dilations, pads and auto_pad for input x.
Window read_window(C& c, const Shape& x, const std::vector<int64_t>& kernel) {
  const int64_t spatial = static_cast<int64_t>(x.size()) - 2;
  TG_CHECK(spatial == 1 || spatial == 2, "input ", shape_str(x), " has ", spatial,
           " spatial dims (1-d and 2-d are supported)");
  Window w;
  w.spatial = spatial;
  auto list = [&](const char* name, std::vector<int64_t> fallback, size_t n) {
    std::vector<int64_t> v = c.ints(name, fallback);
    TG_CHECK(v.size() == n, "attribute '", name, "' has ", v.size(), " entries for ", spatial, " spatial dims");
    return v;
  };
  const std::vector<int64_t> k = list("kernel_shape", kernel, spatial);
  const std::vector<int64_t> s = list("strides", std::vector<int64_t>(spatial, 1), spatial);
  const std::vector<int64_t> d = list("dilations", std::vector<int64_t>(spatial, 1), spatial);
  const std::vector<int64_t> p = list("pads", std::vector<int64_t>(2 * spatial, 0), 2 * spatial);
  const int64_t off = 2 - spatial;  // a 1-d node fills the width
  for (int64_t i = 0; i < spatial; ++i) {
    TG_CHECK(k[i] > 0 && s[i] > 0 && d[i] > 0, "kernel_shape, strides and dilations must be positive");
    TG_CHECK(p[i] >= 0 && p[spatial + i] >= 0, "pads must not be negative");
    w.kernel[off + i] = k[i];
    w.stride[off + i] = s[i];
    w.dilation[off + i] = d[i];
    w.pad_begin[off + i] = p[i];
    w.pad_end[off + i] = p[spatial + i];
  }
  const std::string auto_pad = c.s("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int64_t i = 0; i < spatial; ++i) {
      const int64_t j = off + i, in = x[2 + i];
      const int64_t out = (in + w.stride[j] - 1) / w.stride[j];
      const int64_t total = std::max<int64_t>(0, (out - 1) * w.stride[j] + (w.kernel[j] - 1) * w.dilation[j] + 1 - in);
      const int64_t small = total / 2;
      w.pad_begin[j] = auto_pad == "SAME_UPPER" ? small : total - small;
      w.pad_end[j] = total - w.pad_begin[j];
    }
  } else if (auto_pad == "VALID") {
    for (int j = 0; j < 2; ++j) w.pad_begin[j] = w.pad_end[j] = 0;
  } else {
    TG_CHECK(auto_pad == "NOTSET", "auto_pad '", auto_pad, "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  }
  return w;
}
Window read_window(C& c, const Tensor& x, const std::vector<int64_t>& kernel) { return read_window(c, x.shape(), kernel); }

// A Conv's or ConvTranspose's window: the kernel defaults to the weight's spatial dims.
Window read_conv_window(C& c, const Shape& x, const Shape& weight) {
  TG_CHECK(weight.size() == x.size() && x.size() >= 3, "weight ", shape_str(weight), " does not fit input ",
           shape_str(x));
  return read_window(c, x, std::vector<int64_t>(weight.begin() + 2, weight.end()));
}

// Pads a [N, C, H, W] tensor per side with `value`.
Tensor pad_sides(const Tensor& x, const Window& w, double value) {
  return pad(x, {w.pad_begin[1], w.pad_end[1], w.pad_begin[0], w.pad_end[0]}, "constant", value);
}

Tensors conv_onnx(C& c) { return {fused_conv_onnx(c, Tensor(), false)}; }

Tensors conv_transpose_onnx(C& c) {
  const Tensor& x_in = c.in(0);
  const Tensor& weight_in = c.in(1);
  // ConvTranspose's auto_pad works on the output size; read the rest without it.
  Window w = read_conv_window(c, x_in.shape(), weight_in.shape());
  const int64_t spatial = w.spatial, off = 2 - spatial;
  const int64_t groups = c.i("group", 1);
  std::vector<int64_t> output_padding = c.ints("output_padding", std::vector<int64_t>(spatial, 0));
  TG_CHECK(static_cast<int64_t>(output_padding.size()) == spatial, "output_padding has ", output_padding.size(),
           " entries");
  const Tensor x = as_2d(x_in, spatial), weight = as_2d(weight_in, spatial);
  // The full transposed convolution (no padding), then cropped or extended per side.
  const Tensor full = conv_transpose2d(x, weight, Tensor(), Size2(w.stride[0], w.stride[1]), 0, 0, groups,
                                       Size2(w.dilation[0], w.dilation[1]));
  int64_t begin[2] = {0, 0}, end[2] = {0, 0};  // crop (positive) or extend (negative) per side
  const std::vector<int64_t> output_shape = c.ints("output_shape", std::vector<int64_t>{});
  const std::string auto_pad = c.s("auto_pad", "NOTSET");
  for (int64_t i = 0; i < spatial; ++i) {
    const int64_t j = off + i, n = full.size(2 + j);
    const int64_t natural = n + output_padding[i];  // before pads
    // ONNX's rule, with Python's floor division (total may be negative: the output grows).
    auto floor_half = [](int64_t t) { return t >= 0 ? t / 2 : -((1 - t) / 2); };
    int64_t target = -1;
    if (!output_shape.empty()) {
      TG_CHECK(static_cast<int64_t>(output_shape.size()) >= spatial, "output_shape has ", output_shape.size(), " entries");
      target = output_shape[output_shape.size() - spatial + i];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      target = x.size(2 + j) * w.stride[j];
    }
    if (target >= 0) {
      const int64_t total = natural - target;
      begin[j] = auto_pad == "SAME_UPPER" ? floor_half(total) : total - floor_half(total);
      end[j] = total - begin[j];
    } else {
      begin[j] = w.pad_begin[j];
      end[j] = w.pad_end[j];
    }
    end[j] -= output_padding[i];  // the crop of `full`, which lacks the output_padding rows
  }
  // Negative crops extend with zeros (output_padding's extra rows see no input); the bias comes last.
  Tensor y = pad(full, {-begin[1], -end[1], -begin[0], -end[0]}, "constant", 0.0);
  if (c.has_in(2)) y = add(y, reshape(c.in(2), {1, -1, 1, 1}));
  return {from_2d(y, spatial)};
}

// Whether tapegrad's pools take this padding directly (at most half the effective kernel).
bool pool_padding_ok(const Window& w) {
  if (!w.symmetric()) return false;
  for (int j = 0; j < 2; ++j) {
    if (w.pad_begin[j] * 2 > (w.kernel[j] - 1) * w.dilation[j] + 1) return false;
  }
  return true;
}

Tensors max_pool_onnx(C& c) {
  TG_CHECK(c.num_outputs() == 1, "the Indices output is not supported");
  TG_CHECK(c.i("storage_order", 0) == 0, "storage_order=1 is not supported");
  const Tensor& x_in = c.in(0);
  TG_CHECK(x_in.dim() >= 3, "input ", shape_str(x_in.shape()), " has no spatial dims");
  Window w = read_window(c, x_in, c.ints("kernel_shape"));
  const bool ceil_mode = c.i("ceil_mode", 0) != 0;
  // Integer inputs pool in float64 (exact for every value below 2^53) and convert back.
  Tensor x = as_2d(is_floating(x_in.dtype()) ? x_in : to_dtype(x_in, kFloat64), w.spatial);
  Size2 padding(w.pad_begin[0], w.pad_begin[1]);
  if (!pool_padding_ok(w)) {
    x = pad_sides(x, w, -INFINITY);
    padding = Size2(0, 0);
  }
  const Tensor y = max_pool2d(x, Size2(w.kernel[0], w.kernel[1]), Size2(w.stride[0], w.stride[1]), padding,
                              Size2(w.dilation[0], w.dilation[1]), ceil_mode);
  return {from_2d(y.dtype() == x_in.dtype() ? y : to_dtype(y, x_in.dtype()), w.spatial)};
}

Tensors average_pool_onnx(C& c) {
  const Tensor& x_in = c.in(0);
  TG_CHECK(x_in.dim() >= 3, "input ", shape_str(x_in.shape()), " has no spatial dims");
  Window w = read_window(c, x_in, c.ints("kernel_shape"));
  TG_CHECK(w.dilation[0] == 1 && w.dilation[1] == 1, "dilations are not supported for AveragePool");
  const bool ceil_mode = c.i("ceil_mode", 0) != 0;
  const bool count_pad = c.i("count_include_pad", 0) != 0;
  const Tensor x = as_2d(x_in, w.spatial);
  const Size2 kernel(w.kernel[0], w.kernel[1]), stride(w.stride[0], w.stride[1]);
  if (pool_padding_ok(w)) {
    return {from_2d(avg_pool2d(x, kernel, stride, Size2(w.pad_begin[0], w.pad_begin[1]), ceil_mode, count_pad), w.spatial)};
  }
  // Per-side pads: pool the zero-padded input; without count_include_pad divide by the pooled
  // count of real elements (the same divisor cancels).
  const Tensor sums = avg_pool2d(pad_sides(x, w, 0.0), kernel, stride, 0, ceil_mode, true);
  if (count_pad) return {from_2d(sums, w.spatial)};
  const Tensor real = pad_sides(ones({1, 1, x.size(2), x.size(3)}, x.dtype()), w, 0.0);
  return {from_2d(div(sums, avg_pool2d(real, kernel, stride, 0, ceil_mode, true)), w.spatial)};
}

std::vector<int64_t> spatial_dims(const Tensor& x) {
  TG_CHECK(x.dim() >= 3, "input ", shape_str(x.shape()), " has no spatial dims");
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

Tensors global_max_pool_onnx(C& c) {
  Tensor y = c.in(0);
  for (int64_t d : spatial_dims(y)) y = std::get<0>(max(y, d, true));
  return {y};
}

// In train() a BatchNormalization behaves as PyTorch's BatchNorm (batch statistics, running
// variance updated with the unbiased batch variance): fine-tuning an imported model works as
// fine-tuning it in PyTorch. A graph that itself says training_mode=1 gets ONNX's exact rule
// (the population variance in the running update) and the updated statistics as outputs.
Tensors batch_norm_onnx(C& c) {
  const Tensor& x = c.in(0);
  TG_CHECK(c.i("spatial", 1) == 1, "spatial=0 is not supported");
  const bool graph_training = c.opset() >= 14 && c.i("training_mode", 0) != 0;
  TG_CHECK(c.num_outputs() == 1 || graph_training,
           "the running-statistics outputs exist only with training_mode=1 (opset 14 and later)");
  const double onnx_momentum = c.f("momentum", 0.9), eps = c.f("epsilon", 1e-5);
  const Tensor &mean = c.in(3), &var = c.in(4);
  if (!graph_training) {
    // PyTorch's momentum weights the new batch, ONNX's the running value.
    return {batch_norm(x, mean, var, c.in(1), c.in(2), c.training(), 1.0 - onnx_momentum, eps)};
  }
  TG_CHECK(x.dim() >= 2, "input ", shape_str(x.shape()), " has no channel dim");
  std::vector<int64_t> dims = {0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const Tensor y = batch_norm(x, mean.detach().clone(), var.detach().clone(), c.in(1), c.in(2), /*training=*/true,
                              0.0, eps);
  Tensor new_mean, new_var;
  {
    NoGradGuard no_grad;
    const Tensor batch_mean = tg::mean(x.detach(), dims), batch_var = tg::var(x.detach(), dims, /*unbiased=*/false);
    new_mean = add(mean.detach() * onnx_momentum, batch_mean * (1 - onnx_momentum));
    new_var = add(var.detach() * onnx_momentum, batch_var * (1 - onnx_momentum));
    if (mean.is_leaf()) Tensor(mean).copy_(new_mean);
    if (var.is_leaf()) Tensor(var).copy_(new_var);
  }
  return {y, new_mean, new_var};
}

// (x - mean) / sqrt(var) over axes (default [0, 2, 3]), population variance as ONNX.
Tensors mean_variance_normalization_onnx(C& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> axes = c.ints("axes", std::vector<int64_t>{0, 2, 3});
  for (int64_t& a : axes) a = c.axis(a, x.dim(), "axes entry");
  const Tensor centred = sub(x, tg::mean(x, axes, true));
  return {div(centred, sqrt(tg::mean(centred * centred, axes, true)))};
}

Tensors layer_norm_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", -1), x.dim());
  const double eps = c.f("epsilon", 1e-5);
  std::vector<int64_t> dims, normalized;
  for (int64_t d = axis; d < x.dim(); ++d) {
    dims.push_back(d);
    normalized.push_back(x.size(d));
  }
  const Tensor scale = c.in(1);
  const Tensor bias = c.has_in(2) ? c.in(2) : Tensor();
  const bool exact = scale.shape() == normalized && (!bias.defined() || bias.shape() == normalized);
  Tensor y = exact ? layer_norm(x, normalized, scale, bias, eps) : layer_norm(x, normalized, {}, {}, eps);
  if (!exact) {
    y = mul(y, scale);
    if (bias.defined()) y = add(y, bias);
  }
  if (c.num_outputs() == 1) return {y};
  const Tensor m = mean(x, dims, true);
  const Tensor inv_std = rsqrt(var(x, dims, /*unbiased=*/false, true) + eps);
  return {y, m, inv_std};
}

Tensors gemm_onnx(C& c) {
  Tensor a = c.in(0), b = c.in(1);
  TG_CHECK(a.dim() == 2 && b.dim() == 2, "A ", shape_str(a.shape()), " and B ", shape_str(b.shape()), " must be 2-d");
  const double alpha = c.f("alpha", 1.0), beta = c.f("beta", 1.0);
  const bool trans_a = c.i("transA", 0) != 0, trans_b = c.i("transB", 0) != 0;
  if (trans_a) a = transpose(a, 0, 1);
  // The common Linear layer: one fused call.
  if (trans_b && alpha == 1.0 && (!c.has_in(2) || (beta == 1.0 && c.in(2).dim() == 1))) {
    return {linear(a, b, c.has_in(2) ? c.in(2) : Tensor())};
  }
  if (trans_b) b = transpose(b, 0, 1);
  Tensor y = matmul(a, b);
  if (alpha != 1.0) y = y * alpha;
  if (c.has_in(2) && beta != 0.0) y = add(y, beta == 1.0 ? c.in(2) : c.in(2) * beta);
  return {y};
}

// Local response normalization across channels: x / (bias + alpha / size * sum of squares over
// the window [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]) ^ beta.
Tensors lrn_onnx(C& c) {
  const Tensor& x = c.in(0);
  TG_CHECK(x.dim() >= 3, "input ", shape_str(x.shape()), " has no spatial dims");
  const int64_t size = c.i("size");
  TG_CHECK(size > 0, "size must be positive");
  const double alpha = c.f("alpha", 1e-4), beta = c.f("beta", 0.75), bias = c.f("bias", 1.0);
  const int64_t before = (size - 1) / 2, after = size - 1 - before, channels = x.size(1);
  std::vector<int64_t> pads(2 * (x.dim() - 2), 0);
  pads.push_back(before);
  pads.push_back(after);
  const Tensor sq = pad(x * x, pads, "constant", 0.0);
  Tensor window = narrow(sq, 1, 0, channels);
  for (int64_t j = 1; j < size; ++j) window = add(window, narrow(sq, 1, j, channels));
  return {div(x, pow(window * (alpha / size) + bias, beta))};
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "LRN", .convert = lrn_onnx},
    {.op_type = "MeanVarianceNormalization", .convert = mean_variance_normalization_onnx},
    {.op_type = "Conv", .convert = conv_onnx, .min_inputs = 2, .max_inputs = 3},
    {.op_type = "ConvTranspose", .convert = conv_transpose_onnx, .min_inputs = 2, .max_inputs = 3},
    {.op_type = "MaxPool", .convert = max_pool_onnx, .max_outputs = 2},
    {.op_type = "AveragePool", .convert = average_pool_onnx},
    {.op_type = "GlobalAveragePool",
     .convert = [](C& c) -> Tensors { return {mean(c.in(0), spatial_dims(c.in(0)), true)}; }},
    {.op_type = "GlobalMaxPool", .convert = global_max_pool_onnx},
    {.op_type = "BatchNormalization", .convert = batch_norm_onnx, .min_inputs = 5, .max_inputs = 5, .max_outputs = 5,
     .buffer_inputs = {3, 4}, .depends_on_mode = true},
    {.op_type = "InstanceNormalization",
     .convert = [](C& c) -> Tensors { return {instance_norm(c.in(0), c.in(1), c.in(2), c.f("epsilon", 1e-5))}; },
     .min_inputs = 3, .max_inputs = 3},
    {.op_type = "LayerNormalization", .convert = layer_norm_onnx, .min_inputs = 2, .max_inputs = 3, .max_outputs = 3,
     .min_opset = 17},
    {.op_type = "Gemm", .convert = gemm_onnx, .min_inputs = 2, .max_inputs = 3},
    {.op_type = "MatMul", .convert = [](C& c) -> Tensors { return {matmul(c.in(0), c.in(1))}; }, .min_inputs = 2,
     .max_inputs = 2},
});

}  // namespace

std::optional<ops::Conv2dParams> kernel_layout_conv_params(OnnxNodeContext& c, const Shape& x, const Shape& weight) {
  if (x.size() != 4 || weight.size() != 4) return std::nullopt;
  const Window w = read_conv_window(c, x, weight);
  const ops::Conv2dParams p{w.stride[0],   w.stride[1],   w.pad_begin[0], w.pad_begin[1],
                            w.dilation[0], w.dilation[1], c.i("group", 1)};
  if (!w.symmetric() || p.groups <= 0 || !ops::kernel_layout_supported(x, weight, p)) return std::nullopt;
  return p;
}

// Conv; with an epilogue (Note [Fused convolution] in ops/conv.h) when a residual or relu is
// given, or undefined when the residual does not have the output's shape and dtype.
Tensor fused_conv_onnx(OnnxNodeContext& c, const Tensor& residual, bool relu) {
  const Tensor& weight_in = c.in(1);
  Window w = read_conv_window(c, c.in(0).shape(), weight_in.shape());
  const Tensor x = as_2d(c.in(0), w.spatial);
  const Tensor weight = as_2d(weight_in, w.spatial);
  const int64_t groups = c.i("group", 1);
  Tensor input = x;
  Size2 padding(w.pad_begin[0], w.pad_begin[1]);
  if (!w.symmetric()) {
    input = pad_sides(x, w, 0.0);
    padding = Size2(0, 0);
  }
  const Tensor bias = c.has_in(2) ? c.in(2) : Tensor();
  const Size2 stride(w.stride[0], w.stride[1]), dilation(w.dilation[0], w.dilation[1]);
  if (!residual.defined() && !relu) return from_2d(conv2d(input, weight, bias, stride, padding, dilation, groups), w.spatial);
  Tensor r;
  if (residual.defined()) {
    const Shape out = ops::conv2d_output_shape(input.shape(), weight.shape(),
                                               {stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups});
    r = residual.dim() == c.in(0).dim() ? as_2d(residual, w.spatial) : residual;
    if (r.shape() != out || r.dtype() != input.dtype()) return Tensor();
  }
  return from_2d(fused_conv2d(input, weight, bias, r, relu, stride, padding, dilation, groups), w.spatial);
}


}  // namespace tg::io
