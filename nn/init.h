// tapegrad/nn/init.h: parameter initializers (torch.nn.init). Each fills a tensor in place
// without recording and returns it. Randomness comes from `gen` or the default generator.
//   tg::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));   // PyTorch's Linear/Conv default
#pragma once

#include <string>
#include <utility>

#include "autograd/tensor.h"

namespace tg::nn::init {

enum class FanMode { kFanIn, kFanOut };
enum class Nonlinearity { kLinear, kRelu, kLeakyRelu, kTanh, kSigmoid };

// (fan_in, fan_out) of a weight [out, in, *kernel]; throws for fewer than 2 dims.
std::pair<int64_t, int64_t> fans(const Tensor& t);
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

Tensor uniform_(Tensor t, double low = 0.0, double high = 1.0, ops::Generator* gen = nullptr);
Tensor normal_(Tensor t, double mean = 0.0, double std = 1.0, ops::Generator* gen = nullptr);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
Tensor xavier_uniform_(Tensor t, double gain = 1.0, ops::Generator* gen = nullptr);
Tensor xavier_normal_(Tensor t, double gain = 1.0, ops::Generator* gen = nullptr);
// a: the negative slope of the rectifier after this layer (leaky_relu gain).
Tensor kaiming_uniform_(Tensor t, double a = 0.0, FanMode mode = FanMode::kFanIn,
                        Nonlinearity nonlinearity = Nonlinearity::kLeakyRelu, ops::Generator* gen = nullptr);
Tensor kaiming_normal_(Tensor t, double a = 0.0, FanMode mode = FanMode::kFanIn,
                       Nonlinearity nonlinearity = Nonlinearity::kLeakyRelu, ops::Generator* gen = nullptr);

}  // namespace tg::nn::init
