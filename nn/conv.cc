// tapegrad/nn/conv.cc: the Conv2d, Conv1d, ConvTranspose2d and ConvTranspose1d layers.
#include "nn/conv.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "nn/init.h"

namespace tg::nn {

namespace {
// "same" padding for stride 1: dilation * (k - 1) / 2 on each side; must be symmetric.
int64_t same_padding(int64_t kernel, int64_t dilation) {
  const int64_t total = dilation * (kernel - 1);
  TG_CHECK(total % 2 == 0, "Conv2d: padding=\"same\" needs an odd effective kernel size (kernel ", kernel,
           ", dilation ", dilation, ") for symmetric padding");
  return total / 2;
}

// PyTorch's default: weight kaiming_uniform(a = sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void init_conv(const Tensor& weight, const Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fans(weight).first));
    init::uniform_(bias, -bound, bound);
  }
}

void check_channels(const char* op, int64_t in, int64_t out, int64_t groups) {
  TG_CHECK(in > 0 && out > 0, op, ": channels must be positive, got in=", in, " out=", out);
  TG_CHECK(groups > 0 && in % groups == 0 && out % groups == 0, op, ": in_channels ", in, " and out_channels ", out,
           " must be divisible by groups ", groups);
}
// PyTorch's ConvTranspose output_padding for a requested output size: per spatial dim, the
// size must lie in [smallest, smallest + stride - 1] (the output sizes a stride can give).
std::vector<int64_t> output_padding_for(const char* op, const Tensor& input, const std::vector<int64_t>& output_size,
                                        const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                                        const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation) {
  const size_t spatial = kernel.size();
  TG_CHECK(output_size.size() == spatial || output_size.size() == spatial + 2, op, ": output_size must have ", spatial,
           " or ", spatial + 2, " elements, got ", output_size.size());
  TG_CHECK(input.defined() && input.dim() >= static_cast<int64_t>(spatial), op, ": input ",
           input.defined() ? shape_str(input.shape()) : "undefined", " has fewer than ", spatial, " spatial dims");
  std::vector<int64_t> result;
  for (size_t d = 0; d < spatial; ++d) {
    const int64_t size = output_size[output_size.size() - spatial + d];
    const int64_t in = input.size(input.dim() - static_cast<int64_t>(spatial) + static_cast<int64_t>(d));
    const int64_t smallest = (in - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + 1;
    TG_CHECK(size >= smallest && size < smallest + stride[d], op, ": requested output size ", size, " of spatial dim ",
             d, " is outside [", smallest, ", ", smallest + stride[d] - 1, "] for input ", shape_str(input.shape()));
    result.push_back(size - smallest);
  }
  return result;
}
}  // namespace

Conv2d::Conv2d(Conv2dOptions o) : Module("Conv2d"), options(o), padding(o.padding_) {
  check_channels("Conv2d", o.in_channels, o.out_channels, o.groups_);
  TG_CHECK(o.kernel_size.h > 0 && o.kernel_size.w > 0, "Conv2d: kernel size must be positive");
  if (o.same_) {
    TG_CHECK(o.stride_.h == 1 && o.stride_.w == 1, "Conv2d: padding=\"same\" requires stride 1");
    padding = Size2(same_padding(o.kernel_size.h, o.dilation_.h), same_padding(o.kernel_size.w, o.dilation_.w));
  }
  weight = register_parameter(
      "weight", zeros({o.out_channels, o.in_channels / o.groups_, o.kernel_size.h, o.kernel_size.w}, o.dtype_));
  if (o.bias_) bias = register_parameter("bias", zeros({o.out_channels}, o.dtype_));
  reset_parameters();
}

void Conv2d::reset_parameters() { init_conv(weight, bias); }

Tensor Conv2d::forward(const Tensor& input) {
  return conv2d(input, weight, bias, options.stride_, padding, options.dilation_, options.groups_);
}

std::string Conv2d::extra_repr() const {
  const auto& o = options;
  return absl::StrCat(o.in_channels, ", ", o.out_channels, ", kernel_size=(", o.kernel_size.h, ", ", o.kernel_size.w,
                      "), stride=(", o.stride_.h, ", ", o.stride_.w, "), padding=(", padding.h, ", ", padding.w, ")",
                      o.dilation_.h != 1 || o.dilation_.w != 1
                          ? absl::StrCat(", dilation=(", o.dilation_.h, ", ", o.dilation_.w, ")")
                          : "",
                      o.groups_ != 1 ? absl::StrCat(", groups=", o.groups_) : "", o.bias_ ? "" : ", bias=false");
}

Conv1d::Conv1d(Conv1dOptions o) : Module("Conv1d"), options(o), padding(o.padding_) {
  check_channels("Conv1d", o.in_channels, o.out_channels, o.groups_);
  TG_CHECK(o.kernel_size > 0, "Conv1d: kernel size must be positive");
  if (o.same_) {
    TG_CHECK(o.stride_ == 1, "Conv1d: padding=\"same\" requires stride 1");
    padding = same_padding(o.kernel_size, o.dilation_);
  }
  weight = register_parameter("weight", zeros({o.out_channels, o.in_channels / o.groups_, o.kernel_size}, o.dtype_));
  if (o.bias_) bias = register_parameter("bias", zeros({o.out_channels}, o.dtype_));
  reset_parameters();
}

void Conv1d::reset_parameters() { init_conv(weight, bias); }

Tensor Conv1d::forward(const Tensor& input) {
  return conv1d(input, weight, bias, options.stride_, padding, options.dilation_, options.groups_);
}

std::string Conv1d::extra_repr() const {
  const auto& o = options;
  return absl::StrCat(o.in_channels, ", ", o.out_channels, ", kernel_size=(", o.kernel_size, ",), stride=(", o.stride_,
                      ",), padding=(", padding, ",)", o.dilation_ != 1 ? absl::StrCat(", dilation=(", o.dilation_, ",)") : "",
                      o.groups_ != 1 ? absl::StrCat(", groups=", o.groups_) : "", o.bias_ ? "" : ", bias=false");
}

ConvTranspose2d::ConvTranspose2d(ConvTranspose2dOptions o) : Module("ConvTranspose2d"), options(o) {
  check_channels("ConvTranspose2d", o.in_channels, o.out_channels, o.groups_);
  TG_CHECK(o.kernel_size.h > 0 && o.kernel_size.w > 0, "ConvTranspose2d: kernel size must be positive");
  weight = register_parameter(
      "weight", zeros({o.in_channels, o.out_channels / o.groups_, o.kernel_size.h, o.kernel_size.w}, o.dtype_));
  if (o.bias_) bias = register_parameter("bias", zeros({o.out_channels}, o.dtype_));
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() { init_conv(weight, bias); }

Tensor ConvTranspose2d::forward(const Tensor& input) {
  const auto& o = options;
  return conv_transpose2d(input, weight, bias, o.stride_, o.padding_, o.output_padding_, o.groups_, o.dilation_);
}

Tensor ConvTranspose2d::forward(const Tensor& input, const std::vector<int64_t>& output_size) {
  const auto& o = options;
  const std::vector<int64_t> extra =
      output_padding_for("ConvTranspose2d", input, output_size, {o.kernel_size.h, o.kernel_size.w},
                         {o.stride_.h, o.stride_.w}, {o.padding_.h, o.padding_.w}, {o.dilation_.h, o.dilation_.w});
  return conv_transpose2d(input, weight, bias, o.stride_, o.padding_, {extra[0], extra[1]}, o.groups_, o.dilation_);
}

std::string ConvTranspose2d::extra_repr() const {
  const auto& o = options;
  auto pair = [](const char* name, Size2 s) { return absl::StrCat(", ", name, "=(", s.h, ", ", s.w, ")"); };
  return absl::StrCat(o.in_channels, ", ", o.out_channels, ", kernel_size=(", o.kernel_size.h, ", ", o.kernel_size.w,
                      ")", pair("stride", o.stride_), pair("padding", o.padding_),
                      o.output_padding_.h || o.output_padding_.w ? pair("output_padding", o.output_padding_) : "",
                      o.dilation_.h != 1 || o.dilation_.w != 1 ? pair("dilation", o.dilation_) : "",
                      o.groups_ != 1 ? absl::StrCat(", groups=", o.groups_) : "", o.bias_ ? "" : ", bias=false");
}

ConvTranspose1d::ConvTranspose1d(ConvTranspose1dOptions o) : Module("ConvTranspose1d"), options(o) {
  check_channels("ConvTranspose1d", o.in_channels, o.out_channels, o.groups_);
  TG_CHECK(o.kernel_size > 0, "ConvTranspose1d: kernel size must be positive");
  weight = register_parameter("weight", zeros({o.in_channels, o.out_channels / o.groups_, o.kernel_size}, o.dtype_));
  if (o.bias_) bias = register_parameter("bias", zeros({o.out_channels}, o.dtype_));
  reset_parameters();
}

void ConvTranspose1d::reset_parameters() { init_conv(weight, bias); }

Tensor ConvTranspose1d::forward(const Tensor& input) {
  const auto& o = options;
  return conv_transpose1d(input, weight, bias, o.stride_, o.padding_, o.output_padding_, o.groups_, o.dilation_);
}

Tensor ConvTranspose1d::forward(const Tensor& input, const std::vector<int64_t>& output_size) {
  const auto& o = options;
  const std::vector<int64_t> extra = output_padding_for("ConvTranspose1d", input, output_size, {o.kernel_size},
                                                        {o.stride_}, {o.padding_}, {o.dilation_});
  return conv_transpose1d(input, weight, bias, o.stride_, o.padding_, extra[0], o.groups_, o.dilation_);
}

std::string ConvTranspose1d::extra_repr() const {
  const auto& o = options;
  return absl::StrCat(o.in_channels, ", ", o.out_channels, ", kernel_size=(", o.kernel_size, ",), stride=(", o.stride_,
                      ",), padding=(", o.padding_, ",)",
                      o.output_padding_ ? absl::StrCat(", output_padding=(", o.output_padding_, ",)") : "",
                      o.dilation_ != 1 ? absl::StrCat(", dilation=(", o.dilation_, ",)") : "",
                      o.groups_ != 1 ? absl::StrCat(", groups=", o.groups_) : "", o.bias_ ? "" : ", bias=false");
}

}  // namespace tg::nn
