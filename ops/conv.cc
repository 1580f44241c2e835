// tapegrad/ops/conv.cc: convolution. Validates, then takes the fast path (oneDNN, float32; see
// ops/backend.h) or the reference path here: im2col + one GEMM per group over the whole batch.
// Note [Batched im2col]: the column matrix holds every sample ([C/g*KH*KW, N*OH*OW]) so each
// group is a single large GEMM (BLAS threads it) and im2col/col2im parallelize over planes.
#include "ops/conv.h"

#include <cstring>

#include "ops/backend.h"
#include "ops/blas.h"
#include "ops/elementwise.h"
#include "ops/internal/onednn_conv.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

// An uninitialized work buffer (std::vector would zero it first).
template <typename T>
class Scratch {
 public:
  explicit Scratch(int64_t n) : array_(Array::empty({n}, dtype_of<T>())) {}
  T* data() { return array_.data<T>(); }

 private:
  Array array_;
};

struct Geometry {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, groups;
  int64_t cg() const { return c / groups; }
  int64_t ocg() const { return oc / groups; }
  int64_t col_rows() const { return cg() * kh * kw; }
  int64_t col_cols() const { return n * oh * ow; }
};

Geometry geometry(const Shape& input, const Shape& weight, const Conv2dParams& p) {
  const Shape out = conv2d_output_shape(input, weight, p);
  return {input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3], out[2], out[3], p.groups};
}

// col[(c*kh + i)*kw + j][(n*oh + y)*ow + x] = input[n][g*cg + c][y*sh - ph + i*dh][x*sw - pw + j*dw]
template <typename T>
void im2col(const T* input, const Geometry& g, const Conv2dParams& p, int64_t group, T* col) {
  const int64_t rows = g.col_rows(), plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (rows * g.col_cols() >= 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
    // Output columns x whose input column x*sw - pw + j*dw lies inside [0, w).
    const int64_t shift = j * p.dilation_w - p.pad_w;
    int64_t x_lo = 0, x_hi = g.ow;
    while (x_lo < g.ow && x_lo * p.stride_w + shift < 0) ++x_lo;
    while (x_hi > x_lo && (x_hi - 1) * p.stride_w + shift >= g.w) --x_hi;
    T* dst = col + r * g.col_cols();
    for (int64_t n = 0; n < g.n; ++n) {
      const T* src = input + ((n * g.c) + group * g.cg() + c) * g.h * g.w;
      for (int64_t y = 0; y < g.oh; ++y) {
        const int64_t iy = y * p.stride_h - p.pad_h + i * p.dilation_h;
        T* d = dst + n * plane + y * g.ow;
        if (iy < 0 || iy >= g.h) {
          std::fill_n(d, g.ow, T(0));
          continue;
        }
        std::fill_n(d, x_lo, T(0));
        const T* s = src + iy * g.w + shift;
        if (p.stride_w == 1) {
          std::memcpy(d + x_lo, s + x_lo, (x_hi - x_lo) * sizeof(T));
        } else {
          for (int64_t x = x_lo; x < x_hi; ++x) d[x] = s[x * p.stride_w];
        }
        std::fill_n(d + x_hi, g.ow - x_hi, T(0));
      }
    }
  }
}

// The adjoint of im2col: accumulates columns back into input-shaped planes (which start zeroed).
template <typename T>
void col2im(const T* col, const Geometry& g, const Conv2dParams& p, int64_t group, T* input) {
  const int64_t plane = g.oh * g.ow;
  // Parallel over (n, c) planes: each plane is written by exactly one iteration.
#pragma omp parallel for collapse(2) schedule(static) if (g.col_rows() * g.col_cols() >= 32768)
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t c = 0; c < g.cg(); ++c) {
      T* dst = input + ((n * g.c) + group * g.cg() + c) * g.h * g.w;
      for (int64_t i = 0; i < g.kh; ++i) {
        for (int64_t j = 0; j < g.kw; ++j) {
          const T* src = col + ((c * g.kh + i) * g.kw + j) * g.col_cols() + n * plane;
          for (int64_t y = 0; y < g.oh; ++y) {
            const int64_t iy = y * p.stride_h - p.pad_h + i * p.dilation_h;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t x = 0; x < g.ow; ++x) {
              const int64_t ix = x * p.stride_w - p.pad_w + j * p.dilation_w;
              if (ix >= 0 && ix < g.w) dst[iy * g.w + ix] += src[y * g.ow + x];
            }
          }
        }
      }
    }
  }
}

// [N, OC, L] <-> [OC, N*L] for one group's slice of channels.
template <typename T>
void nchw_to_cn(const T* src, const Geometry& g, int64_t group, T* dst) {
  const int64_t plane = g.oh * g.ow;
  for (int64_t o = 0; o < g.ocg(); ++o)
    for (int64_t n = 0; n < g.n; ++n)
      std::memcpy(dst + o * g.col_cols() + n * plane, src + (n * g.oc + group * g.ocg() + o) * plane,
                  plane * sizeof(T));
}
template <typename T>
void cn_to_nchw(const T* src, const Geometry& g, int64_t group, T* dst) {
  const int64_t plane = g.oh * g.ow;
  for (int64_t o = 0; o < g.ocg(); ++o)
    for (int64_t n = 0; n < g.n; ++n)
      std::memcpy(dst + (n * g.oc + group * g.ocg() + o) * plane, src + o * g.col_cols() + n * plane,
                  plane * sizeof(T));
}

void check_bias(const Array& bias, int64_t channels, DType dtype, const char* op) {
  if (!bias.defined()) return;
  TG_CHECK(bias.dim() == 1 && bias.size(0) == channels, op, ": bias ", shape_str(bias.shape()), " does not match ",
           channels, " output channels");
  TG_CHECK(bias.dtype() == dtype, op, ": bias dtype ", dtype_name(bias.dtype()), " differs from input dtype ",
           dtype_name(dtype));
}

// out[n][c][...] += bias[c] for a contiguous or channels-last [N, C, ...] out.
void add_channel_bias(Array& out, const Array& bias_in) {
  const Array bias = bias_in.contiguous();
  const int64_t n = out.size(0), channels = out.size(1);
  int64_t plane = 1;
  for (int64_t d = 2; d < out.dim(); ++d) plane *= out.size(d);
  dispatch_floating(out.dtype(), "conv bias", [&](auto tag) {
    using T = decltype(tag);
    const T* b = bias.data<T>();
    T* o = out.data<T>();
    if (is_channels_last(out)) {  // [N*H*W, C] rows
      for (int64_t r = 0; r < n * plane; ++r)
        for (int64_t c = 0; c < channels; ++c) o[r * channels + c] += b[c];
      return;
    }
    TG_CHECK(out.is_contiguous(), "conv bias: internal: output is neither contiguous nor channels last");
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < channels; ++c) {
        T* d = o + (i * channels + c) * plane;
        for (int64_t k = 0; k < plane; ++k) d[k] += b[c];
      }
  });
}

// The fast path takes float32 (outside deterministic mode, see ops/backend.h) for every geometry
// oneDNN can run.
bool take_fast_path(DType dtype, const Shape& input, const Shape& weight, const Conv2dParams& p) {
  return use_fast_path(dtype) && onednn::conv2d_supported(input, weight, p);
}

}  // namespace

Shape conv2d_output_shape(const Shape& in, const Shape& w, const Conv2dParams& p, const char* op) {
  TG_CHECK(in.size() == 4, op, ": input must be 4-D [N,C,H,W], got ", shape_str(in));
  TG_CHECK(w.size() == 4, op, ": weight must be 4-D [OC,C/groups,KH,KW], got ", shape_str(w));
  TG_CHECK(p.stride_h > 0 && p.stride_w > 0, op, ": stride must be positive, got [", p.stride_h, ",",
           p.stride_w, "]");
  TG_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be non-negative, got [", p.pad_h, ",", p.pad_w,
           "]");
  TG_CHECK(p.dilation_h > 0 && p.dilation_w > 0, op, ": dilation must be positive, got [", p.dilation_h, ",",
           p.dilation_w, "]");
  TG_CHECK(p.groups > 0, op, ": groups must be positive, got ", p.groups);
  TG_CHECK(in[1] % p.groups == 0 && w[0] % p.groups == 0, op, ": input ", shape_str(in), " and weight ",
           shape_str(w), ": channels not divisible by groups=", p.groups);
  TG_CHECK(in[1] == w[1] * p.groups, op, ": input ", shape_str(in), " has ", in[1],
           " channels, weight ", shape_str(w), " expects ", w[1] * p.groups, " (groups=", p.groups, ")");
  const int64_t eff_kh = (w[2] - 1) * p.dilation_h + 1, eff_kw = (w[3] - 1) * p.dilation_w + 1;
  const int64_t oh = (in[2] + 2 * p.pad_h - eff_kh) / p.stride_h + 1;
  const int64_t ow = (in[3] + 2 * p.pad_w - eff_kw) / p.stride_w + 1;
  TG_CHECK(in[2] + 2 * p.pad_h >= eff_kh && in[3] + 2 * p.pad_w >= eff_kw && oh > 0 && ow > 0, op,
           ": kernel ", shape_str({eff_kh, eff_kw}), " (dilated) is larger than padded input ",
           shape_str({in[2] + 2 * p.pad_h, in[3] + 2 * p.pad_w}));
  return {in[0], w[0], oh, ow};
}

Array conv2d(const Array& input_in, const Array& weight_in, const Array& bias, const Conv2dParams& p,
             const ConvEpilogue& epilogue, WeightPacking packing) {
  TG_CHECK(input_in.dtype() == weight_in.dtype(), "conv2d: input dtype ", dtype_name(input_in.dtype()),
           " differs from weight dtype ", dtype_name(weight_in.dtype()));
  const Geometry g = geometry(input_in.shape(), weight_in.shape(), p);
  check_bias(bias, g.oc, input_in.dtype(), "conv2d");
  if (const Array& r = epilogue.residual; r.defined()) {
    const Shape out_shape{g.n, g.oc, g.oh, g.ow};
    TG_CHECK(r.shape() == out_shape && r.dtype() == input_in.dtype(), "conv2d: residual ", shape_str(r.shape()), " ",
             dtype_name(r.dtype()), " must match the output ", shape_str(out_shape), " ", dtype_name(input_in.dtype()));
  }
  refresh_team_size();
  if (take_fast_path(input_in.dtype(), input_in.shape(), weight_in.shape(), p))
    return onednn::conv2d(input_in, weight_in, bias, p, epilogue, packing);
  const Array input = input_in.contiguous(), weight = weight_in.contiguous();
  Array out = Array::empty({g.n, g.oc, g.oh, g.ow}, input.dtype());
  dispatch_floating(input.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    Scratch<T> col(g.col_rows() * g.col_cols()), res(g.ocg() * g.col_cols());
    for (int64_t group = 0; group < g.groups; ++group) {
      im2col(input.data<T>(), g, p, group, col.data());
      gemm(false, false, g.ocg(), g.col_cols(), g.col_rows(), T(1),
           weight.data<T>() + group * g.ocg() * g.col_rows(), g.col_rows(), col.data(), g.col_cols(), T(0),
           res.data(), g.col_cols());
      cn_to_nchw(res.data(), g, group, out.data<T>());
    }
  });
  if (bias.defined()) add_channel_bias(out, bias);
  if (epilogue.residual.defined()) add_into(out, epilogue.residual);
  return epilogue.relu ? unary(UnaryOp::kRelu, out) : out;
}

bool kernel_layout_supported(const Shape& input, const Shape& weight, const Conv2dParams& p) {
  return input.size() == 4 && weight.size() == 4 && take_fast_path(kFloat32, input, weight, p);
}

KernelArray as_kernel_array(const Array& plain) {
  TG_CHECK(plain.dim() == 4 && plain.dtype() == kFloat32, "as_kernel_array: needs a 4-D float32 array, got ",
           shape_str(plain.shape()), " ", dtype_name(plain.dtype()));
  return onednn::as_kernel_array(plain);
}

KernelArray conv2d_in_kernel_layout(const KernelArray& input, const Array& weight, const Array& bias,
                                    const Conv2dParams& p, KernelArray residual, bool relu) {
  TG_CHECK(weight.dtype() == kFloat32, "conv2d_in_kernel_layout: weight must be float32, got ",
           dtype_name(weight.dtype()));
  const Shape out = conv2d_output_shape(input.shape, weight.shape(), p, "conv2d_in_kernel_layout");
  check_bias(bias, out[1], kFloat32, "conv2d_in_kernel_layout");
  TG_CHECK(!residual.defined() || residual.shape == out, "conv2d_in_kernel_layout: residual ",
           shape_str(residual.shape), " must match the output ", shape_str(out));
  TG_CHECK(kernel_layout_supported(input.shape, weight.shape(), p),
           "conv2d_in_kernel_layout: the fast path does not take input ", shape_str(input.shape), " weight ",
           shape_str(weight.shape()), " (check kernel_layout_supported first)");
  refresh_team_size();
  return onednn::conv2d_in_kernel_layout(input, weight, bias, p, std::move(residual), relu);
}

Array to_plain(const KernelArray& a, MemoryFormat format) {
  TG_CHECK(format == MemoryFormat::Contiguous || format == MemoryFormat::ChannelsLast,
           "to_plain: format must be contiguous or channels_last, got ", memory_format_name(format));
  return onednn::to_plain(a, format);
}

Array conv2d_backward_input(const Array& grad_out_in, const Array& weight_in, const Shape& input_shape,
                            const Conv2dParams& p) {
  TG_CHECK(grad_out_in.dtype() == weight_in.dtype(), "conv2d_backward_input: gradient dtype ",
           dtype_name(grad_out_in.dtype()), " differs from weight dtype ", dtype_name(weight_in.dtype()));
  const Geometry g = geometry(input_shape, weight_in.shape(), p);
  TG_CHECK(grad_out_in.shape() == Shape({g.n, g.oc, g.oh, g.ow}), "conv2d_backward_input: grad ",
           shape_str(grad_out_in.shape()), " does not match output ", shape_str({g.n, g.oc, g.oh, g.ow}));
  refresh_team_size();
  if (take_fast_path(grad_out_in.dtype(), input_shape, weight_in.shape(), p))
    return onednn::conv2d_backward_input(grad_out_in, weight_in, input_shape, p);
  const Array grad_out = grad_out_in.contiguous(), weight = weight_in.contiguous();
  Array grad_in = Array::zeros(input_shape, grad_out.dtype());
  dispatch_floating(grad_out.dtype(), "conv2d_backward_input", [&](auto tag) {
    using T = decltype(tag);
    Scratch<T> col(g.col_rows() * g.col_cols()), gy(g.ocg() * g.col_cols());
    for (int64_t group = 0; group < g.groups; ++group) {
      nchw_to_cn(grad_out.data<T>(), g, group, gy.data());
      gemm(true, false, g.col_rows(), g.col_cols(), g.ocg(), T(1),
           weight.data<T>() + group * g.ocg() * g.col_rows(), g.col_rows(), gy.data(), g.col_cols(), T(0),
           col.data(), g.col_cols());
      col2im(col.data(), g, p, group, grad_in.data<T>());
    }
  });
  return grad_in;
}

Array conv2d_backward_weight(const Array& input_in, const Array& grad_out_in, const Shape& weight_shape,
                             const Conv2dParams& p) {
  TG_CHECK(grad_out_in.dtype() == input_in.dtype(), "conv2d_backward_weight: gradient dtype ",
           dtype_name(grad_out_in.dtype()), " differs from input dtype ", dtype_name(input_in.dtype()));
  const Geometry g = geometry(input_in.shape(), weight_shape, p);
  TG_CHECK(grad_out_in.shape() == Shape({g.n, g.oc, g.oh, g.ow}), "conv2d_backward_weight: grad ",
           shape_str(grad_out_in.shape()), " does not match output ", shape_str({g.n, g.oc, g.oh, g.ow}));
  refresh_team_size();
  if (take_fast_path(input_in.dtype(), input_in.shape(), weight_shape, p))
    return onednn::conv2d_backward_weight(input_in, grad_out_in, weight_shape, p);
  const Array input = input_in.contiguous(), grad_out = grad_out_in.contiguous();
  Array grad_w = Array::empty(weight_shape, input.dtype());
  dispatch_floating(input.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = decltype(tag);
    Scratch<T> col(g.col_rows() * g.col_cols()), gy(g.ocg() * g.col_cols());
    for (int64_t group = 0; group < g.groups; ++group) {
      im2col(input.data<T>(), g, p, group, col.data());
      nchw_to_cn(grad_out.data<T>(), g, group, gy.data());
      gemm(false, true, g.ocg(), g.col_rows(), g.col_cols(), T(1), gy.data(), g.col_cols(), col.data(),
           g.col_cols(), T(0), grad_w.data<T>() + group * g.ocg() * g.col_rows(), g.col_rows());
    }
  });
  return grad_w;
}

Shape conv_transpose2d_output_shape(const Shape& in, const Shape& w, const Conv2dParams& p, int64_t output_padding_h,
                                    int64_t output_padding_w, const char* op) {
  TG_CHECK(in.size() == 4, op, ": input must be 4-D [N,C_in,H,W], got ", shape_str(in));
  TG_CHECK(w.size() == 4, op, ": weight must be 4-D [C_in,C_out/groups,KH,KW], got ", shape_str(w));
  TG_CHECK(p.groups > 0, op, ": groups must be positive, got ", p.groups);
  TG_CHECK(in[1] == w[0], op, ": input ", shape_str(in), " has ", in[1], " channels, weight ", shape_str(w),
           " expects ", w[0]);
  TG_CHECK(w[0] % p.groups == 0, op, ": weight ", shape_str(w), ": ", w[0], " input channels not divisible by groups=",
           p.groups);
  TG_CHECK(p.stride_h > 0 && p.stride_w > 0, op, ": stride must be positive, got [", p.stride_h, ",", p.stride_w, "]");
  TG_CHECK(p.dilation_h > 0 && p.dilation_w > 0, op, ": dilation must be positive, got [", p.dilation_h, ",",
           p.dilation_w, "]");
  TG_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be non-negative, got [", p.pad_h, ",", p.pad_w, "]");
  TG_CHECK(output_padding_h >= 0 && output_padding_w >= 0 && output_padding_h < p.stride_h &&
               output_padding_w < p.stride_w,
           op, ": output_padding [", output_padding_h, ",", output_padding_w, "] must be non-negative and smaller ",
           "than the stride [", p.stride_h, ",", p.stride_w, "]");
  const int64_t oh = (in[2] - 1) * p.stride_h - 2 * p.pad_h + p.dilation_h * (w[2] - 1) + output_padding_h + 1;
  const int64_t ow = (in[3] - 1) * p.stride_w - 2 * p.pad_w + p.dilation_w * (w[3] - 1) + output_padding_w + 1;
  TG_CHECK(in[2] > 0 && in[3] > 0 && oh > 0 && ow > 0, op, ": input ", shape_str(in), " with weight ", shape_str(w),
           " and padding [", p.pad_h, ",", p.pad_w, "] gives a non-positive output size ", shape_str({oh, ow}));
  const Shape out{in[0], w[1] * p.groups, oh, ow};
  // The convolution that is this op's adjoint must map the output back onto the input exactly.
  TG_CHECK(conv2d_output_shape(out, w, p, op) == Shape({in[0], w[0], in[2], in[3]}), op,
           ": internal: output ", shape_str(out), " does not convolve back to input ", shape_str(in));
  return out;
}

Array conv_transpose2d(const Array& input, const Array& weight, const Array& bias, const Conv2dParams& p,
                       int64_t output_padding_h, int64_t output_padding_w) {
  TG_CHECK(input.dtype() == weight.dtype(), "conv_transpose2d: input dtype ", dtype_name(input.dtype()),
           " differs from weight dtype ", dtype_name(weight.dtype()));
  const Shape out_shape = conv_transpose2d_output_shape(input.shape(), weight.shape(), p, output_padding_h, output_padding_w);
  check_bias(bias, out_shape[1], input.dtype(), "conv_transpose2d");
  // The transposed convolution is the input adjoint of the convolution from out_shape.
  Array out = conv2d_backward_input(input, weight, out_shape, p);
  if (bias.defined()) add_channel_bias(out, bias);
  return out;
}

}  // namespace tg::ops
