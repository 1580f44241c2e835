// tapegrad/nn/pooling.h: MaxPool2d and AvgPool2d (stride defaults to the kernel size).
#pragma once

#include <optional>

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

}  // namespace tg::nn
