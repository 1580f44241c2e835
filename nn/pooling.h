// tapegrad/nn/pooling.h: MaxPool1d/2d and AvgPool1d/2d (stride defaults to the kernel size),
// AdaptiveAvgPool1d/2d and AdaptiveMaxPool2d (a fixed output size), PixelShuffle/PixelUnshuffle,
// Upsample (interpolate as a layer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "nn/module.h"

namespace tg::nn {

struct MaxPool2dOptions {
  Size2 kernel{2};
  std::optional<Size2> stride;  // the kernel size by default
  Size2 padding{0}, dilation{1};
  bool ceil_mode = false;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions o)
      : Module("MaxPool2d"),
        kernel(o.kernel),
        stride(o.stride.value_or(o.kernel)),
        padding(o.padding),
        dilation(o.dilation),
        ceil_mode(o.ceil_mode) {}
  explicit MaxPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : MaxPool2d(MaxPool2dOptions{kernel, stride, padding}) {}
  Tensor forward(const Tensor& input) override { return max_pool2d(input, kernel, stride, padding, dilation, ceil_mode); }
  std::string extra_repr() const override;
  const Size2 kernel, stride, padding, dilation;
  const bool ceil_mode;
};

struct AvgPool2dOptions {
  Size2 kernel{2};
  std::optional<Size2> stride;  // the kernel size by default
  Size2 padding{0};
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<int64_t> divisor_override;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(AvgPool2dOptions o)
      : Module("AvgPool2d"),
        kernel(o.kernel),
        stride(o.stride.value_or(o.kernel)),
        padding(o.padding),
        ceil_mode(o.ceil_mode),
        count_include_pad(o.count_include_pad),
        divisor_override(o.divisor_override) {}
  explicit AvgPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                     bool count_include_pad = true)
      : AvgPool2d(AvgPool2dOptions{kernel, stride, padding, false, count_include_pad}) {}
  Tensor forward(const Tensor& input) override {
    return avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override);
  }
  std::string extra_repr() const override;
  const Size2 kernel, stride, padding;
  const bool ceil_mode, count_include_pad;
  const std::optional<int64_t> divisor_override;
};

struct MaxPool1dOptions {
  int64_t kernel = 2;
  std::optional<int64_t> stride;  // the kernel size by default
  int64_t padding = 0, dilation = 1;
  bool ceil_mode = false;
};

class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(MaxPool1dOptions o)
      : Module("MaxPool1d"),
        kernel(o.kernel),
        stride(o.stride.value_or(o.kernel)),
        padding(o.padding),
        dilation(o.dilation),
        ceil_mode(o.ceil_mode) {}
  explicit MaxPool1d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0)
      : MaxPool1d(MaxPool1dOptions{kernel, stride, padding}) {}
  Tensor forward(const Tensor& input) override { return max_pool1d(input, kernel, stride, padding, dilation, ceil_mode); }
  std::string extra_repr() const override;
  const int64_t kernel, stride, padding, dilation;
  const bool ceil_mode;
};

struct AvgPool1dOptions {
  int64_t kernel = 2;
  std::optional<int64_t> stride;  // the kernel size by default
  int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

class AvgPool1d : public Module {
 public:
  explicit AvgPool1d(AvgPool1dOptions o)
      : Module("AvgPool1d"),
        kernel(o.kernel),
        stride(o.stride.value_or(o.kernel)),
        padding(o.padding),
        ceil_mode(o.ceil_mode),
        count_include_pad(o.count_include_pad) {}
  explicit AvgPool1d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                     bool count_include_pad = true)
      : AvgPool1d(AvgPool1dOptions{kernel, stride, padding, false, count_include_pad}) {}
  Tensor forward(const Tensor& input) override {
    return avg_pool1d(input, kernel, stride, padding, ceil_mode, count_include_pad);
  }
  std::string extra_repr() const override;
  const int64_t kernel, stride, padding;
  const bool ceil_mode, count_include_pad;
};

class AdaptiveAvgPool1d : public Module {
 public:
  explicit AdaptiveAvgPool1d(int64_t output_size) : Module("AdaptiveAvgPool1d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override { return adaptive_avg_pool1d(input, output_size); }
  std::string extra_repr() const override;
  const int64_t output_size;
};

// AdaptiveAvgPool2d(1) is global average pooling (exported as ReduceMean).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : Module("AdaptiveAvgPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override { return adaptive_avg_pool2d(input, output_size); }
  std::string extra_repr() const override;
  const Size2 output_size;
};

class AdaptiveMaxPool2d : public Module {
 public:
  explicit AdaptiveMaxPool2d(Size2 output_size) : Module("AdaptiveMaxPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override { return adaptive_max_pool2d(input, output_size); }
  std::string extra_repr() const override;
  const Size2 output_size;
};

class PixelShuffle : public Module {
 public:
  explicit PixelShuffle(int64_t upscale_factor) : Module("PixelShuffle"), upscale_factor(upscale_factor) {}
  Tensor forward(const Tensor& input) override { return pixel_shuffle(input, upscale_factor); }
  std::string extra_repr() const override;
  const int64_t upscale_factor;
};

class PixelUnshuffle : public Module {
 public:
  explicit PixelUnshuffle(int64_t downscale_factor) : Module("PixelUnshuffle"), downscale_factor(downscale_factor) {}
  Tensor forward(const Tensor& input) override { return pixel_unshuffle(input, downscale_factor); }
  std::string extra_repr() const override;
  const int64_t downscale_factor;
};

struct UpsampleOptions {
  std::optional<std::vector<int64_t>> size = std::nullopt;
  std::optional<std::vector<double>> scale_factor = std::nullopt;
  std::string mode = "nearest";  // or "linear", "bilinear"
  std::optional<bool> align_corners = std::nullopt;
};

class Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options) : Module("Upsample"), options(std::move(options)) {}
  Tensor forward(const Tensor& input) override {
    return interpolate(input, options.size, options.scale_factor, options.mode, options.align_corners);
  }
  std::string extra_repr() const override;
  const UpsampleOptions options;
};

}  // namespace tg::nn
