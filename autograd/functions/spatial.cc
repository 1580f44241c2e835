// tapegrad/autograd/functions/spatial.cc: spatial ops composed from the 2-D rows: conv1d,
// conv_transpose1d and the 1-D pools (a 2-D op over [N, C, 1, L]), adaptive average / max pooling (one pool when the sizes
// divide, a mean over the whole map for 1 x 1, PyTorch's floor/ceil windows otherwise), and
// pixel_shuffle / pixel_unshuffle (reshape and permute), and interpolate (nearest and (bi)linear
// as index_select along each dim with constant weights: differentiable, ONNX Gather).
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions/common.h"
#include "autograd/indexing.h"

namespace tg {

namespace {

void check_rank(const Tensor& x, int64_t rank, const char* op, const char* layout) {
  TG_CHECK(x.defined() && (x.dim() == rank || x.dim() == rank - 1), op, ": input must be ", layout, " (or unbatched), got ",
           x.defined() ? shape_str(x.shape()) : "undefined");
}

// Runs f on a batched input: an unbatched one gets a batch of 1 for the call.
template <typename F>
Tensor batched(const Tensor& x, int64_t rank, F&& f) {
  if (x.dim() == rank) return f(x);
  return squeeze(f(unsqueeze(x, 0)), 0);
}

// PyTorch's adaptive window of output cell i: [floor(i in / out), ceil((i + 1) in / out)).
std::pair<int64_t, int64_t> window(int64_t i, int64_t in, int64_t out) {
  return {(i * in) / out, ((i + 1) * in + out - 1) / out};
}

// Pools each adaptive window of [N, C, H, W] with `reduce` ([N, C, h, w] -> [N, C, 1, 1]).
template <typename Reduce>
Tensor adaptive_windows(const Tensor& x, Size2 out, Reduce&& reduce) {
  const int64_t h = x.size(2), w = x.size(3);
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < out.h; ++i) {
    const auto [h0, h1] = window(i, h, out.h);
    std::vector<Tensor> cells;
    for (int64_t j = 0; j < out.w; ++j) {
      const auto [w0, w1] = window(j, w, out.w);
      cells.push_back(reduce(narrow(narrow(x, 2, h0, h1 - h0), 3, w0, w1 - w0)));
    }
    rows.push_back(cat(cells, 3));
  }
  return cat(rows, 2);
}

void check_output_size(const Tensor& x, Size2 out, const char* op) {
  TG_CHECK(out.h > 0 && out.w > 0, op, ": output size must be positive, got [", out.h, ", ", out.w, "]");
  TG_CHECK(x.size(-2) > 0 && x.size(-1) > 0, op, ": input ", shape_str(x.shape()), " has an empty spatial dim");
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t dilation, int64_t groups) {
  check_rank(x, 3, "conv1d", "[N, C, L]");
  TG_CHECK(weight.defined() && weight.dim() == 3, "conv1d: weight must be [out, in / groups, K], got ",
           weight.defined() ? shape_str(weight.shape()) : "undefined");
  return batched(x, 3, [&](const Tensor& b) {
    return squeeze(conv2d(unsqueeze(b, 2), unsqueeze(weight, 2), bias, {1, stride}, {0, padding}, {1, dilation}, groups), 2);
  });
}

Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
                        int64_t output_padding, int64_t groups, int64_t dilation) {
  check_rank(x, 3, "conv_transpose1d", "[N, C_in, L]");
  TG_CHECK(weight.defined() && weight.dim() == 3, "conv_transpose1d: weight must be [in, out / groups, K], got ",
           weight.defined() ? shape_str(weight.shape()) : "undefined");
  return batched(x, 3, [&](const Tensor& b) {
    return squeeze(conv_transpose2d(unsqueeze(b, 2), unsqueeze(weight, 2), bias, {1, stride}, {0, padding},
                                    {0, output_padding}, groups, {1, dilation}),
                   2);
  });
}

Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride, int64_t padding, int64_t dilation,
                  bool ceil_mode) {
  check_rank(x, 3, "max_pool1d", "[N, C, L]");
  return batched(x, 3, [&](const Tensor& b) {
    return squeeze(max_pool2d(unsqueeze(b, 2), {1, kernel}, Size2{1, stride.value_or(kernel)}, {0, padding},
                              {1, dilation}, ceil_mode),
                   2);
  });
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                  bool count_include_pad) {
  check_rank(x, 3, "avg_pool1d", "[N, C, L]");
  return batched(x, 3, [&](const Tensor& b) {
    return squeeze(avg_pool2d(unsqueeze(b, 2), {1, kernel}, Size2{1, stride.value_or(kernel)}, {0, padding}, ceil_mode,
                              count_include_pad),
                   2);
  });
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  check_rank(x, 4, "adaptive_avg_pool2d", "[N, C, H, W]");
  check_output_size(x, output_size, "adaptive_avg_pool2d");
  return batched(x, 4, [&](const Tensor& b) {
    const int64_t h = b.size(2), w = b.size(3);
    if (output_size.h == 1 && output_size.w == 1) return mean(b, {2, 3}, true);  // global average pooling
    if (h % output_size.h == 0 && w % output_size.w == 0) {
      const Size2 k{h / output_size.h, w / output_size.w};
      return avg_pool2d(b, k, k);
    }
    return adaptive_windows(b, output_size, [](const Tensor& cell) { return mean(cell, {2, 3}, true); });
  });
}

Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size) {
  check_rank(x, 3, "adaptive_avg_pool1d", "[N, C, L]");
  return batched(x, 3, [&](const Tensor& b) { return squeeze(adaptive_avg_pool2d(unsqueeze(b, 2), {1, output_size}), 2); });
}

Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size) {
  check_rank(x, 4, "adaptive_max_pool2d", "[N, C, H, W]");
  check_output_size(x, output_size, "adaptive_max_pool2d");
  return batched(x, 4, [&](const Tensor& b) {
    const int64_t h = b.size(2), w = b.size(3);
    if (h % output_size.h == 0 && w % output_size.w == 0) {
      const Size2 k{h / output_size.h, w / output_size.w};
      return max_pool2d(b, k, k);
    }
    return adaptive_windows(b, output_size, [](const Tensor& cell) {
      return unsqueeze(std::get<0>(max(flatten(cell, 2), 2, true)), 3);
    });
  });
}

Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor) {
  const int64_t r = upscale_factor;
  TG_CHECK(x.dim() >= 3, "pixel_shuffle: input must be [*, C * r^2, H, W], got ", shape_str(x.shape()));
  TG_CHECK(r > 0 && x.size(-3) % (r * r) == 0, "pixel_shuffle: ", x.size(-3), " channels of input ", shape_str(x.shape()),
           " do not divide by upscale_factor^2 = ", r * r);
  const int64_t c = x.size(-3) / (r * r), h = x.size(-2), w = x.size(-1), lead = x.dim() - 3;
  // [*, C, r, r, H, W] -> [*, C, H, r, W, r] -> [*, C, H r, W r]
  const Tensor split = unflatten(x, lead, {c, r, r});
  Shape order;
  for (int64_t d = 0; d < lead; ++d) order.push_back(d);
  for (int64_t d : {0, 3, 1, 4, 2}) order.push_back(lead + d);
  return unflatten(flatten(permute(split, order), lead), lead, {c, h * r, w * r});
}

Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor) {
  const int64_t r = downscale_factor;
  TG_CHECK(x.dim() >= 3, "pixel_unshuffle: input must be [*, C, H * r, W * r], got ", shape_str(x.shape()));
  TG_CHECK(r > 0 && x.size(-2) % r == 0 && x.size(-1) % r == 0, "pixel_unshuffle: spatial size of input ",
           shape_str(x.shape()), " does not divide by downscale_factor ", r);
  const int64_t c = x.size(-3), h = x.size(-2) / r, w = x.size(-1) / r, lead = x.dim() - 3;
  // [*, C, H, r, W, r] -> [*, C, r, r, H, W] -> [*, C r^2, H, W]
  const Tensor split = unflatten(flatten(x, lead), lead, {c, h, r, w, r});
  Shape order;
  for (int64_t d = 0; d < lead; ++d) order.push_back(d);
  for (int64_t d : {0, 2, 4, 1, 3}) order.push_back(lead + d);
  return unflatten(flatten(permute(split, order), lead), lead, {c * r * r, h, w});
}

}  // namespace tg

namespace tg {

namespace {

// The source positions of one resized dim: for nearest, one index per output; for linear, two
// indices and their weights (PyTorch's area_pixel_compute_source_index).
struct Resample {
  std::vector<int64_t> lo, hi;
  std::vector<double> w_lo, w_hi;
};

Resample resample(int64_t in, int64_t out, std::optional<double> scale_factor, bool linear, bool align_corners) {
  Resample r;
  // PyTorch: with align_corners the corners map to corners; otherwise the scale is in / out, or
  // 1 / scale_factor when one was given.
  double scale;
  if (linear && align_corners) {
    scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  } else {
    scale = scale_factor ? 1.0 / *scale_factor : static_cast<double>(in) / static_cast<double>(out);
  }
  for (int64_t i = 0; i < out; ++i) {
    if (!linear) {
      r.lo.push_back(std::min(static_cast<int64_t>(std::floor(static_cast<double>(i) * scale)), in - 1));
      continue;
    }
    double src = align_corners ? static_cast<double>(i) * scale : (static_cast<double>(i) + 0.5) * scale - 0.5;
    if (src < 0) src = 0;
    const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const int64_t i1 = std::min(i0 + 1, in - 1);
    const double l1 = src - static_cast<double>(i0);
    r.lo.push_back(i0);
    r.hi.push_back(i1);
    r.w_lo.push_back(1.0 - l1);
    r.w_hi.push_back(l1);
  }
  return r;
}

// Resizes dim d of x from its size to `out` with the given plan.
Tensor resize_dim(const Tensor& x, int64_t d, const Resample& r) {
  const int64_t out = static_cast<int64_t>(r.lo.size());
  const Tensor lo = index_select(x, d, tensor(r.lo, {out}, kInt64));
  if (r.hi.empty()) return lo;
  Shape s(x.dim(), 1);
  s[d] = out;
  const Tensor w_lo = tensor(r.w_lo, s, kFloat64).to(x.dtype()), w_hi = tensor(r.w_hi, s, kFloat64).to(x.dtype());
  return lo * w_lo + index_select(x, d, tensor(r.hi, {out}, kInt64)) * w_hi;
}

}  // namespace

Tensor interpolate(const Tensor& x, std::optional<std::vector<int64_t>> size, std::optional<std::vector<double>> scale_factor,
                   const std::string& mode, std::optional<bool> align_corners) {
  TG_CHECK(x.dim() == 3 || x.dim() == 4, "interpolate: input must be [N, C, L] or [N, C, H, W], got ", shape_str(x.shape()));
  TG_CHECK(is_floating(x.dtype()), "interpolate: input must be floating, got ", dtype_name(x.dtype()));
  const size_t spatial = static_cast<size_t>(x.dim() - 2);
  const bool linear = mode == "linear" || mode == "bilinear";
  TG_CHECK(mode == "nearest" || (mode == "linear" && spatial == 1) || (mode == "bilinear" && spatial == 2),
           "interpolate: mode '", mode, "' is not one of nearest, linear (3-d input), bilinear (4-d input) for input ",
           shape_str(x.shape()));
  TG_CHECK(!align_corners || linear, "interpolate: align_corners only applies to linear modes, not '", mode, "'");
  TG_CHECK(size.has_value() != scale_factor.has_value(), "interpolate: give exactly one of size and scale_factor");
  std::vector<int64_t> out(spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x.size(static_cast<int64_t>(i) + 2);
    if (size) {
      TG_CHECK(size->size() == spatial || size->size() == 1, "interpolate: size has ", size->size(), " entries for ",
               spatial, " spatial dims");
      out[i] = (*size)[size->size() == 1 ? 0 : i];
    } else {
      TG_CHECK(scale_factor->size() == spatial || scale_factor->size() == 1, "interpolate: scale_factor has ",
               scale_factor->size(), " entries for ", spatial, " spatial dims");
      const double f = (*scale_factor)[scale_factor->size() == 1 ? 0 : i];
      TG_CHECK(f > 0, "interpolate: scale_factor must be positive, got ", f);
      out[i] = static_cast<int64_t>(std::floor(static_cast<double>(in) * f));
    }
    TG_CHECK(out[i] > 0 && in > 0, "interpolate: input ", shape_str(x.shape()), " to an output of size ", out[i]);
  }
  Tensor y = x;
  for (size_t i = 0; i < spatial; ++i) {
    std::optional<double> f;
    if (scale_factor) f = (*scale_factor)[scale_factor->size() == 1 ? 0 : i];
    y = resize_dim(y, static_cast<int64_t>(i) + 2,
                   resample(x.size(static_cast<int64_t>(i) + 2), out[i], f, linear, align_corners.value_or(false)));
  }
  return y;
}

}  // namespace tg
