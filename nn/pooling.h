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

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : Module("MaxPool2d"), kernel(kernel), stride(stride.value_or(kernel)), padding(padding) {}
  Tensor forward(const Tensor& input) override { return max_pool2d(input, kernel, stride, padding); }
  std::string extra_repr() const override;
  const Size2 kernel, stride, padding;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                     bool count_include_pad = true)
      : Module("AvgPool2d"),
        kernel(kernel),
        stride(stride.value_or(kernel)),
        padding(padding),
        count_include_pad(count_include_pad) {}
  Tensor forward(const Tensor& input) override {
    return avg_pool2d(input, kernel, stride, padding, count_include_pad);
  }
  std::string extra_repr() const override;
  const Size2 kernel, stride, padding;
  const bool count_include_pad;
};

class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0)
      : Module("MaxPool1d"), kernel(kernel), stride(stride.value_or(kernel)), padding(padding) {}
  Tensor forward(const Tensor& input) override { return max_pool1d(input, kernel, stride, padding); }
  std::string extra_repr() const override;
  const int64_t kernel, stride, padding;
};

class AvgPool1d : public Module {
 public:
  explicit AvgPool1d(int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                     bool count_include_pad = true)
      : Module("AvgPool1d"), kernel(kernel), stride(stride.value_or(kernel)), padding(padding), count_include_pad(count_include_pad) {}
  Tensor forward(const Tensor& input) override { return avg_pool1d(input, kernel, stride, padding, count_include_pad); }
  std::string extra_repr() const override;
  const int64_t kernel, stride, padding;
  const bool count_include_pad;
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
