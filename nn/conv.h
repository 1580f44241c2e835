// tapegrad/nn/conv.h: Conv2d over NCHW input (stride, padding or "same", dilation, groups, bias),
// Conv1d, and the transposed ConvTranspose2d / ConvTranspose1d (output_padding, or an output size
// per call), initialized like PyTorch.
//   tg::nn::Conv2d conv(tg::nn::Conv2dOptions{1, 16, 5}.padding(2));
//   tg::nn::ConvTranspose2d up(tg::nn::ConvTranspose2dOptions{16, 8, 3}.stride(2).padding(1).output_padding(1));
#pragma once

#include "autograd/functions.h"
#include "nn/module.h"

namespace tg::nn {

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {}
  int64_t in_channels, out_channels;
  Size2 kernel_size;
  Size2 stride_ = 1, padding_ = 0, dilation_ = 1;
  bool same_ = false;  // output spatial size = input size (stride 1 only)
  int64_t groups_ = 1;
  bool bias_ = true;
  DType dtype_ = kFloat32;

  Conv2dOptions& stride(Size2 s) { return stride_ = s, *this; }
  Conv2dOptions& padding(Size2 p) { return padding_ = p, same_ = false, *this; }
  Conv2dOptions& padding_same() { return same_ = true, *this; }
  Conv2dOptions& dilation(Size2 d) { return dilation_ = d, *this; }
  Conv2dOptions& groups(int64_t g) { return groups_ = g, *this; }
  Conv2dOptions& bias(bool b) { return bias_ = b, *this; }
  Conv2dOptions& dtype(DType d) { return dtype_ = d, *this; }
};

class Conv2d : public Module {
 public:
  explicit Conv2d(Conv2dOptions options);
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  std::string extra_repr() const override;

  const Conv2dOptions options;
  Size2 padding;  // resolved ("same" -> explicit)
  Tensor weight, bias;
};

// Over [N, C, L] (or unbatched [C, L]), weight [out, in / groups, K].
struct Conv1dOptions {
  Conv1dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {}
  int64_t in_channels, out_channels, kernel_size;
  int64_t stride_ = 1, padding_ = 0, dilation_ = 1;
  bool same_ = false;
  int64_t groups_ = 1;
  bool bias_ = true;
  DType dtype_ = kFloat32;

  Conv1dOptions& stride(int64_t s) { return stride_ = s, *this; }
  Conv1dOptions& padding(int64_t p) { return padding_ = p, same_ = false, *this; }
  Conv1dOptions& padding_same() { return same_ = true, *this; }
  Conv1dOptions& dilation(int64_t d) { return dilation_ = d, *this; }
  Conv1dOptions& groups(int64_t g) { return groups_ = g, *this; }
  Conv1dOptions& bias(bool b) { return bias_ = b, *this; }
  Conv1dOptions& dtype(DType d) { return dtype_ = d, *this; }
};

class Conv1d : public Module {
 public:
  explicit Conv1d(Conv1dOptions options);
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  std::string extra_repr() const override;

  const Conv1dOptions options;
  int64_t padding;  // resolved
  Tensor weight, bias;
};

// Weight [in, out / groups, KH, KW] (PyTorch's layout); output
// (H - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1 per spatial dim.
struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {}
  int64_t in_channels, out_channels;
  Size2 kernel_size;
  Size2 stride_ = 1, padding_ = 0, output_padding_ = 0, dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
  DType dtype_ = kFloat32;

  ConvTranspose2dOptions& stride(Size2 s) { return stride_ = s, *this; }
  ConvTranspose2dOptions& padding(Size2 p) { return padding_ = p, *this; }
  ConvTranspose2dOptions& output_padding(Size2 p) { return output_padding_ = p, *this; }
  ConvTranspose2dOptions& dilation(Size2 d) { return dilation_ = d, *this; }
  ConvTranspose2dOptions& groups(int64_t g) { return groups_ = g, *this; }
  ConvTranspose2dOptions& bias(bool b) { return bias_ = b, *this; }
  ConvTranspose2dOptions& dtype(DType d) { return dtype_ = d, *this; }
};

class ConvTranspose2d : public Module {
 public:
  explicit ConvTranspose2d(ConvTranspose2dOptions options);
  Tensor forward(const Tensor& input) override;
  // The output's spatial size chosen per call, as PyTorch's forward(input, output_size): [H, W]
  // (or with the leading dims, [N, C, H, W]); it must lie within stride - 1 of the smallest
  // size, and replaces the options' output_padding for this call.
  Tensor forward(const Tensor& input, const std::vector<int64_t>& output_size);
  void reset_parameters();
  std::string extra_repr() const override;

  const ConvTranspose2dOptions options;
  Tensor weight, bias;
};

struct ConvTranspose1dOptions {
  ConvTranspose1dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {}
  int64_t in_channels, out_channels, kernel_size;
  int64_t stride_ = 1, padding_ = 0, output_padding_ = 0, dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
  DType dtype_ = kFloat32;

  ConvTranspose1dOptions& stride(int64_t s) { return stride_ = s, *this; }
  ConvTranspose1dOptions& padding(int64_t p) { return padding_ = p, *this; }
  ConvTranspose1dOptions& output_padding(int64_t p) { return output_padding_ = p, *this; }
  ConvTranspose1dOptions& dilation(int64_t d) { return dilation_ = d, *this; }
  ConvTranspose1dOptions& groups(int64_t g) { return groups_ = g, *this; }
  ConvTranspose1dOptions& bias(bool b) { return bias_ = b, *this; }
  ConvTranspose1dOptions& dtype(DType d) { return dtype_ = d, *this; }
};

class ConvTranspose1d : public Module {
 public:
  explicit ConvTranspose1d(ConvTranspose1dOptions options);
  Tensor forward(const Tensor& input) override;
  // output_size: [L] (or [N, C, L]); see ConvTranspose2d.
  Tensor forward(const Tensor& input, const std::vector<int64_t>& output_size);
  void reset_parameters();
  std::string extra_repr() const override;

  const ConvTranspose1dOptions options;
  Tensor weight, bias;
};

}  // namespace tg::nn
