// tapegrad/examples/autograd.cc: a tour of automatic differentiation (LibTorch's cpp/autograd):
// gradients of a scalar, vector-Jacobian products, no-grad and detach, hooks, higher-order
// gradients, a custom Function with its own backward, and anomaly mode naming the op that made a
// NaN. Each part checks its numbers; the program exits non-zero if one is wrong.
//   bazel run //examples:autograd
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"

namespace {

using namespace tg;

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += ok ? 0 : 1;
}

bool near(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  const std::vector<double> got = t.to(kFloat64).contiguous().to_vector<double>();
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::fabs(got[i] - want[i]) > tol * (1 + std::fabs(want[i]))) return false;
  return true;
}

// out = mean(3 (x + 2)^2): d out / dx = 6 (x + 2) / 4 = 4.5 at x = 1.
void basic_gradients() {
  std::printf("1. the gradient of a scalar\n");
  Tensor x = ones({2, 2}).set_requires_grad();
  Tensor y = x + 2;
  Tensor z = y * y * 3;
  Tensor out = z.mean();
  out.backward();
  std::printf("  x.grad() = %s\n", std::to_string(x.grad().index({0, 0}).item()).c_str());
  check(near(x.grad(), {4.5, 4.5, 4.5, 4.5}), "d mean(3 (x + 2)^2) / dx = 4.5 at x = 1");
}

// y = x * 2^k with ||y|| just over 1000; y.backward(v) gives v * 2^k (a vector-Jacobian product).
void vector_jacobian_product() {
  std::printf("2. vector-Jacobian products\n");
  Tensor x = tensor(std::vector<float>{0.5f, -1.0f, 2.0f}).set_requires_grad();
  Tensor y = x * 2;
  int doublings = 1;
  while (norm(y).item() < 1000) y = y * 2, ++doublings;
  const Tensor v = tensor(std::vector<float>{0.1f, 1.0f, 0.0001f});
  y.backward(v);
  const double scale = std::pow(2.0, doublings);
  check(near(x.grad(), {0.1 * scale, 1.0 * scale, 0.0001 * scale}, 1e-5), "x.grad() = v * 2^" + std::to_string(doublings));
}

void no_grad_and_detach() {
  std::printf("3. no-grad and detach\n");
  Tensor x = ones({3}).set_requires_grad();
  check((x * x).requires_grad(), "x * x records (x requires grad)");
  {
    NoGradGuard no_grad;
    check(!(x * x).requires_grad(), "under NoGradGuard nothing records");
  }
  Tensor d = x.detach();
  check(!d.requires_grad() && equal(d, x), "detach(): same values, cut from the graph");
}

// A hook sees the gradient flowing into an intermediate and may replace it.
void hooks() {
  std::printf("4. hooks\n");
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor h = x * 3.0;
  std::vector<double> seen;
  h.register_hook([&](const Tensor& g) {
    seen = g.to_vector<double>();
    return g * 2.0;  // doubles what flows on to x
  });
  sum(h).backward();
  check(seen == std::vector<double>{1.0, 1.0}, "the hook saw d sum / dh = 1");
  check(near(x.grad(), {6.0, 6.0}), "x.grad() = 3 * 2 after the hook doubled it");
}

// d/dx x^3 = 3x^2, d2/dx2 = 6x: autograd::grad with create_graph differentiates the gradient.
void higher_order() {
  std::printf("5. higher-order gradients\n");
  Tensor x = tensor({2.0}, kFloat64).set_requires_grad();
  Tensor y = x * x * x;
  Tensor dy = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  Tensor d2y = autograd::grad({dy}, {x})[0];
  check(near(dy, {12.0}) && near(d2y, {12.0}), "x^3 at 2: first derivative 12, second 12");
}

// A custom Function: forward runs without recording, backward says how the gradient flows.
struct ClampedExp : autograd::Function {
  std::string name() const override { return "clamped_exp"; }
  Tensor forward(autograd::FunctionContext& ctx, const std::vector<Tensor>& in) override {
    Tensor y = exp(clamp(in[0], std::nullopt, 10.0));
    ctx.save_for_backward({in[0], y});
    return y;
  }
  std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& g) override {
    const Tensor& x = ctx.saved()[0];
    const Tensor& y = ctx.saved()[1];
    return {g * y * (x <= 10.0).to(y.dtype())};  // no gradient where the clamp held
  }
};

void custom_function() {
  std::printf("6. a custom Function\n");
  Tensor x = tensor({0.0, 1.0, 20.0}, kFloat64).set_requires_grad();
  Tensor y = autograd::apply_function(std::make_shared<ClampedExp>(), {x});
  sum(y).backward();
  check(near(x.grad(), {1.0, std::exp(1.0), 0.0}), "gradient e^x, 0 where clamped");
  const auto result = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return autograd::apply_function(std::make_shared<ClampedExp>(), in); },
      {tensor({-0.5, 0.3, 2.0}, kFloat64).set_requires_grad()});
  check(result.ok, "gradcheck (float64 central differences) agrees with its backward");
}

// Anomaly mode names the op whose backward produced a NaN.
void anomaly_mode() {
  std::printf("7. anomaly mode\n");
  Tensor x = tensor({0.0, 1.0}, kFloat64).set_requires_grad();
  std::string message;
  try {
    autograd::DetectAnomalyGuard detect;
    sum(sqrt(x) * 0.0).backward();  // d sqrt / dx at 0 is inf; times 0 gives NaN
  } catch (const Error& e) {
    message = e.what();
  }
  std::printf("  %s\n", message.substr(0, message.find('\n')).c_str());
  check(message.find("sqrt") != std::string::npos, "the error names sqrt");
}

}  // namespace

int main() {
  basic_gradients();
  vector_jacobian_product();
  no_grad_and_detach();
  hooks();
  higher_order();
  custom_function();
  anomaly_mode();
  std::printf("%s\n", failures == 0 ? "all checks passed" : (std::to_string(failures) + " checks failed").c_str());
  return failures == 0 ? 0 : 1;
}
