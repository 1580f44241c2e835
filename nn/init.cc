// tapegrad/nn/init.cc: initializers with PyTorch's formulas (gain, fan-in/fan-out bounds).
#include "nn/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/elementwise.h"

namespace tg::nn::init {

std::pair<int64_t, int64_t> fans(const Tensor& t) {
  TG_CHECK(t.dim() >= 2, "init: fan in and fan out need a tensor with at least 2 dims, got ", shape_str(t.shape()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(Nonlinearity n, double param) {
  switch (n) {
    case Nonlinearity::kLinear:
    case Nonlinearity::kSigmoid: return 1.0;
    case Nonlinearity::kTanh: return 5.0 / 3.0;
    case Nonlinearity::kRelu: return std::sqrt(2.0);
    case Nonlinearity::kLeakyRelu: return std::sqrt(2.0 / (1.0 + param * param));
  }
  return 1.0;
}

static Tensor fill_from(Tensor t, const ops::Array& values) {
  NoGradGuard no_grad;
  ops::overwrite(t.data(), values, "nn::init");
  return t;
}

static ops::Generator& pick(ops::Generator* gen) { return gen ? *gen : ops::default_generator(); }

Tensor uniform_(Tensor t, double low, double high, ops::Generator* gen) {
  return fill_from(t, ops::uniform(t.shape(), low, high, kFloat64, pick(gen)));
}
Tensor normal_(Tensor t, double mean, double std, ops::Generator* gen) {
  return fill_from(t, ops::normal(t.shape(), mean, std, kFloat64, pick(gen)));
}
Tensor constant_(Tensor t, double value) { return fill_from(t, ops::Array::scalar(value, t.dtype())); }
Tensor zeros_(Tensor t) { return constant_(t, 0.0); }
Tensor ones_(Tensor t) { return constant_(t, 1.0); }

Tensor xavier_uniform_(Tensor t, double gain, ops::Generator* gen) {
  auto [fan_in, fan_out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound, gen);
}
Tensor xavier_normal_(Tensor t, double gain, ops::Generator* gen) {
  auto [fan_in, fan_out] = fans(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

static double kaiming_std(const Tensor& t, double a, FanMode mode, Nonlinearity n) {
  auto [fan_in, fan_out] = fans(t);
  const int64_t fan = mode == FanMode::kFanIn ? fan_in : fan_out;
  TG_CHECK(fan > 0, "kaiming init: zero fan for tensor ", shape_str(t.shape()));
  return calculate_gain(n, a) / std::sqrt(static_cast<double>(fan));
}

Tensor kaiming_uniform_(Tensor t, double a, FanMode mode, Nonlinearity n, ops::Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, n);
  return uniform_(t, -bound, bound, gen);
}
Tensor kaiming_normal_(Tensor t, double a, FanMode mode, Nonlinearity n, ops::Generator* gen) {
  return normal_(t, 0.0, kaiming_std(t, a, mode, n), gen);
}

}  // namespace tg::nn::init
