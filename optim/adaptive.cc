// tapegrad/optim/adaptive.cc: Adagrad, Adadelta, Adamax, NAdam and RAdam as one loop each over a
// parameter's elements (in double, stored in the parameter's dtype).
#include "optim/adaptive.h"

#include <algorithm>
#include <cmath>

namespace tg::optim {

namespace {

void check_betas(const char* name, double beta1, double beta2, double eps) {
  TG_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, name, ": betas must be in [0, 1), got ", beta1, ", ", beta2);
  TG_CHECK(eps >= 0, name, ": eps must be >= 0, got ", eps);
}

// Calls f(i, g_i) for each element with the L2 weight decay folded into the gradient; T is the
// parameter's element type, p its data.
template <typename T, typename F>
void for_each_element(Tensor& param, const Tensor& grad, double weight_decay, F&& f) {
  T* p = param.data_ptr<T>();
  const T* g = grad.data_ptr<T>();
  for (int64_t i = 0; i < param.numel(); ++i) f(i, p, static_cast<double>(g[i]) + weight_decay * static_cast<double>(p[i]));
}

}  // namespace

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions o) : Optimizer(std::move(groups), "Adagrad"), options(o) {
  TG_CHECK(o.lr_decay >= 0 && o.initial_accumulator_value >= 0 && o.eps >= 0,
           "Adagrad: lr_decay, initial_accumulator_value and eps must be >= 0");
}

void Adagrad::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const bool fresh = !state.buffers.count("sum");
  Tensor& sum = state.buffer("sum", param);
  if (fresh && options.initial_accumulator_value != 0) sum.fill_(options.initial_accumulator_value);
  const double clr = group.lr / (1 + static_cast<double>(state.step - 1) * options.lr_decay);
  dispatch_floating(param.dtype(), "Adagrad", [&](auto tag) {
    using T = decltype(tag);
    T* s = sum.data_ptr<T>();
    for_each_element<T>(param, grad, group.weight_decay, [&](int64_t i, T* p, double g) {
      s[i] = static_cast<T>(s[i] + g * g);
      p[i] = static_cast<T>(p[i] - clr * g / (std::sqrt(static_cast<double>(s[i])) + options.eps));
    });
  });
}

Adadelta::Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions o) : Optimizer(std::move(groups), "Adadelta"), options(o) {
  TG_CHECK(o.rho >= 0 && o.rho <= 1, "Adadelta: rho must be in [0, 1], got ", o.rho);
  TG_CHECK(o.eps >= 0, "Adadelta: eps must be >= 0, got ", o.eps);
}

void Adadelta::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const double rho = options.rho, eps = options.eps;
  dispatch_floating(param.dtype(), "Adadelta", [&](auto tag) {
    using T = decltype(tag);
    T* sq = state.buffer("square_avg", param).data_ptr<T>();
    T* acc = state.buffer("acc_delta", param).data_ptr<T>();
    for_each_element<T>(param, grad, group.weight_decay, [&](int64_t i, T* p, double g) {
      sq[i] = static_cast<T>(rho * sq[i] + (1 - rho) * g * g);
      const double delta = std::sqrt(acc[i] + eps) / std::sqrt(sq[i] + eps) * g;
      acc[i] = static_cast<T>(rho * acc[i] + (1 - rho) * delta * delta);
      p[i] = static_cast<T>(p[i] - group.lr * delta);
    });
  });
}

Adamax::Adamax(std::vector<ParamGroup> groups, AdamaxOptions o) : Optimizer(std::move(groups), "Adamax"), options(o) {
  check_betas("Adamax", o.beta1, o.beta2, o.eps);
}

void Adamax::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const double b1 = options.beta1, b2 = options.beta2;
  const double clr = group.lr / (1 - std::pow(b1, static_cast<double>(state.step)));
  dispatch_floating(param.dtype(), "Adamax", [&](auto tag) {
    using T = decltype(tag);
    T* m = state.buffer("exp_avg", param).data_ptr<T>();
    T* u = state.buffer("exp_inf", param).data_ptr<T>();
    for_each_element<T>(param, grad, group.weight_decay, [&](int64_t i, T* p, double g) {
      m[i] = static_cast<T>(b1 * m[i] + (1 - b1) * g);
      u[i] = static_cast<T>(std::max(b2 * u[i], std::abs(g) + options.eps));
      p[i] = static_cast<T>(p[i] - clr * m[i] / u[i]);
    });
  });
}

NAdam::NAdam(std::vector<ParamGroup> groups, NAdamOptions o) : Optimizer(std::move(groups), "NAdam"), options(o) {
  check_betas("NAdam", o.beta1, o.beta2, o.eps);
  TG_CHECK(o.momentum_decay >= 0, "NAdam: momentum_decay must be >= 0, got ", o.momentum_decay);
}

void NAdam::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const double b1 = options.beta1, b2 = options.beta2, t = static_cast<double>(state.step);
  const double mu = b1 * (1 - 0.5 * std::pow(0.96, t * options.momentum_decay));
  const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * options.momentum_decay));
  // The product of every step's mu, a 0-d float64 buffer (saved with the optimizer state).
  Tensor& product = state.buffers["mu_product"];
  if (!product.defined()) product = ones({}, kFloat64);
  const double mu_product = product.item() * mu;
  product.fill_(mu_product);
  const double bias_correction2 = 1 - std::pow(b2, t);
  dispatch_floating(param.dtype(), "NAdam", [&](auto tag) {
    using T = decltype(tag);
    T* m = state.buffer("exp_avg", param).data_ptr<T>();
    T* v = state.buffer("exp_avg_sq", param).data_ptr<T>();
    for_each_element<T>(param, grad, group.weight_decay, [&](int64_t i, T* p, double g) {
      m[i] = static_cast<T>(b1 * m[i] + (1 - b1) * g);
      v[i] = static_cast<T>(b2 * v[i] + (1 - b2) * g * g);
      const double denom = std::sqrt(v[i] / bias_correction2) + options.eps;
      double x = p[i] - group.lr * (1 - mu) / (1 - mu_product) * g / denom;
      x -= group.lr * mu_next / (1 - mu_product * mu_next) * m[i] / denom;
      p[i] = static_cast<T>(x);
    });
  });
}

RAdam::RAdam(std::vector<ParamGroup> groups, RAdamOptions o) : Optimizer(std::move(groups), "RAdam"), options(o) {
  check_betas("RAdam", o.beta1, o.beta2, o.eps);
}

void RAdam::update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const double b1 = options.beta1, b2 = options.beta2, t = static_cast<double>(state.step);
  const double bias_correction1 = 1 - std::pow(b1, t), bias_correction2 = 1 - std::pow(b2, t);
  // The length of the approximated simple moving average; above 5 the adaptive rate is used.
  const double rho_inf = 2 / (1 - b2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(b2, t) / bias_correction2;
  const double rect =
      rho_t > 5 ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0.0;
  dispatch_floating(param.dtype(), "RAdam", [&](auto tag) {
    using T = decltype(tag);
    T* m = state.buffer("exp_avg", param).data_ptr<T>();
    T* v = state.buffer("exp_avg_sq", param).data_ptr<T>();
    for_each_element<T>(param, grad, group.weight_decay, [&](int64_t i, T* p, double g) {
      m[i] = static_cast<T>(b1 * m[i] + (1 - b1) * g);
      v[i] = static_cast<T>(b2 * v[i] + (1 - b2) * g * g);
      const double corrected = m[i] / bias_correction1;
      if (rho_t > 5) {
        const double adaptive = std::sqrt(bias_correction2) / (std::sqrt(static_cast<double>(v[i])) + options.eps);
        p[i] = static_cast<T>(p[i] - corrected * group.lr * adaptive * rect);
      } else {
        p[i] = static_cast<T>(p[i] - corrected * group.lr);
      }
    });
  });
}

}  // namespace tg::optim
