// tapegrad/io/onnx_convert_resize.cc: ONNX Resize (opset 10+) and Upsample (opset 7-9), nearest
// and linear, every coordinate_transformation_mode but tf_crop_and_resize. Separable: each
// resized axis is one index_select (nearest) or a blend of two (linear) along that axis, so the
// result is differentiable in the input and works for any rank (bilinear = linear on H then W).
#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "io/onnx_converters.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

struct ResizeSpec {
  std::string mode = "nearest";                   // nearest or linear
  std::string coordinates = "half_pixel";         // coordinate_transformation_mode
  std::string nearest = "round_prefer_floor";     // nearest_mode
};

// The input coordinate an output index reads, per ONNX's coordinate_transformation_mode.
// `resized` is the unrounded output length (in * scale), as ONNX's reference uses it.
double source_coordinate(const std::string& mode, int64_t o, double scale, int64_t in, double resized) {
  if (mode == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return resized > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners") return resized == 1 ? 0.0 : o * static_cast<double>(in - 1) / (resized - 1);
  if (mode == "asymmetric") return o / scale;
  if (mode == "tf_half_pixel_for_nn") return (o + 0.5) / scale;
  TG_CHECK(false, "coordinate_transformation_mode '", mode, "' is not supported");
  return 0;
}

int64_t nearest_index(const std::string& mode, double x, int64_t in) {
  x = std::clamp(x, -2.0, static_cast<double>(in) + 1);  // the index is clamped into [0, in) after rounding
  if (mode == "round_prefer_floor") return static_cast<int64_t>(std::ceil(x - 0.5));
  if (mode == "round_prefer_ceil") return static_cast<int64_t>(std::floor(x + 0.5));
  if (mode == "floor") return static_cast<int64_t>(std::floor(x));
  if (mode == "ceil") return static_cast<int64_t>(std::ceil(x));
  TG_CHECK(false, "nearest_mode '", mode, "' is not supported");
  return 0;
}

Tensor index_tensor(const std::vector<int64_t>& v) { return tensor(v, {static_cast<int64_t>(v.size())}); }

// Resizes axis d of x to `out` elements with the given scale.
Tensor resize_axis(const Tensor& x, int64_t d, int64_t out, double resized, double scale, const ResizeSpec& spec) {
  const int64_t in = x.size(d);
  TG_CHECK(in > 0 || out == 0, "cannot resize an empty dimension ", d, " to ", out);
  std::vector<int64_t> lo(out), hi(out);
  std::vector<double> frac(out);
  for (int64_t o = 0; o < out; ++o) {
    const double s = source_coordinate(spec.coordinates, o, scale, in, resized);
    TG_CHECK(std::isfinite(s), "output index ", o, " of dimension ", d, " maps to ", s, " (scale ", scale, ")");
    if (spec.mode == "nearest") {
      lo[o] = std::clamp<int64_t>(nearest_index(spec.nearest, s, in), 0, in - 1);
    } else {
      const double c = std::clamp(s, 0.0, static_cast<double>(in - 1));
      lo[o] = static_cast<int64_t>(std::floor(c));
      hi[o] = std::min(lo[o] + 1, in - 1);
      frac[o] = c - lo[o];
    }
  }
  if (spec.mode == "nearest") return index_select(x, d, index_tensor(lo));
  Shape weight_shape(x.dim(), 1);
  weight_shape[d] = out;
  const Tensor w = to_dtype(tensor(frac, weight_shape, kFloat64), x.dtype());
  const Tensor a = index_select(x, d, index_tensor(lo)), b = index_select(x, d, index_tensor(hi));
  return add(a, mul(sub(b, a), w));
}

Tensor resize(const Tensor& x, const std::vector<double>& scales, const std::vector<int64_t>& sizes,
              const ResizeSpec& spec) {
  TG_CHECK(spec.mode == "nearest" || spec.mode == "linear", "mode '", spec.mode,
           "' is not supported (nearest and linear are)");
  TG_CHECK(is_floating(x.dtype()) || spec.mode == "nearest", "linear resize needs a floating input");
  Tensor y = x;
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t out;
    double scale, resized;
    if (!sizes.empty()) {
      out = sizes[d];
      scale = x.size(d) > 0 ? static_cast<double>(out) / x.size(d) : 1.0;
      resized = static_cast<double>(out);
    } else {
      scale = scales[d];
      TG_CHECK(scale > 0, "scale ", scale, " for dimension ", d, " must be positive");
      resized = x.size(d) * scale;
      TG_CHECK(std::isfinite(resized) && resized <= double(int64_t{1} << 31), "scale ", scale, " for dimension ", d,
               " gives ", resized, " elements");
      out = static_cast<int64_t>(std::floor(resized));
    }
    TG_CHECK(out >= 0 && out <= (int64_t{1} << 31), "output size ", out, " for dimension ", d);
    if (out == x.size(d) && scale == 1.0) continue;
    y = resize_axis(y, d, out, resized, scale, spec);
  }
  return y;
}

std::vector<double> double_values(C& c, int i) {
  const Tensor& t = c.in(i);
  TG_CHECK(t.dim() == 1 && is_floating(t.dtype()), "scales must be a 1-d float tensor, is ", shape_str(t.shape()));
  return to_dtype(t, kFloat64).to_vector<double>();
}

Tensors resize_onnx(C& c) {
  const Tensor& x = c.in(0);
  ResizeSpec spec;
  spec.mode = c.s("mode", "nearest");
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (c.opset() < 11) {
    spec.coordinates = "asymmetric";
    spec.nearest = "floor";
    scales = double_values(c, 1);
  } else {
    spec.coordinates = c.s("coordinate_transformation_mode", "half_pixel");
    spec.nearest = c.s("nearest_mode", "round_prefer_floor");
    TG_CHECK(c.i("exclude_outside", 0) == 0, "exclude_outside=1 is not supported");
    if (c.has_in(3) && c.in(3).numel() > 0) {
      sizes = c.int_values(3);
    } else {
      TG_CHECK(c.has_in(2) && c.in(2).numel() > 0, "one of scales and sizes is required");
      scales = double_values(c, 2);
    }
  }
  const size_t n = sizes.empty() ? scales.size() : sizes.size();
  TG_CHECK(static_cast<int64_t>(n) == x.dim(), n, " scales or sizes for a ", x.dim(), "-d input");
  return {resize(x, scales, sizes, spec)};
}

Tensors upsample_onnx(C& c) {
  const Tensor& x = c.in(0);
  ResizeSpec spec;
  spec.mode = c.s("mode", "nearest");
  if (spec.mode == "bilinear") spec.mode = "linear";
  spec.coordinates = "asymmetric";
  spec.nearest = "floor";
  std::vector<double> scales = c.opset() >= 9 ? double_values(c, 1) : c.floats("scales");
  TG_CHECK(static_cast<int64_t>(scales.size()) == x.dim(), scales.size(), " scales for a ", x.dim(), "-d input");
  return {resize(x, scales, {}, spec)};
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "Resize", .convert = resize_onnx, .max_inputs = 4, .constant_inputs = {1, 2, 3}, .min_opset = 10},
    {.op_type = "Upsample", .convert = upsample_onnx, .max_inputs = 2, .constant_inputs = {1}, .max_opset = 9},
});

}  // namespace

}  // namespace tg::io
