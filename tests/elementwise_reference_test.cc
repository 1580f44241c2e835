// tapegrad/tests/elementwise_reference_test.cc: the elementwise math functions and activations
// against Debian's PyTorch (tests/reference/elementwise_reference.py, float64): values (with the
// sign of zero), gradients and second derivatives at kinks, ties, zeros, halves and far out. Every
// reference entry needs a function here and every function an entry, so neither side can drift.
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
#include "tests/reference/elementwise_reference.inc"

using Unary = std::function<Tensor(const Tensor&)>;
using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

const std::map<std::string, Unary>& unary_functions() {
  static const auto* table = new std::map<std::string, Unary>{
      {"tan", [](const Tensor& x) { return tan(x); }},
      {"asin", [](const Tensor& x) { return asin(x); }},
      {"acos", [](const Tensor& x) { return acos(x); }},
      {"atan", [](const Tensor& x) { return atan(x); }},
      {"sinh", [](const Tensor& x) { return sinh(x); }},
      {"cosh", [](const Tensor& x) { return cosh(x); }},
      {"erf", [](const Tensor& x) { return erf(x); }},
      {"erfinv", [](const Tensor& x) { return erfinv(x); }},
      {"expm1", [](const Tensor& x) { return expm1(x); }},
      {"log1p", [](const Tensor& x) { return log1p(x); }},
      {"log2", [](const Tensor& x) { return log2(x); }},
      {"log10", [](const Tensor& x) { return log10(x); }},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }},
      {"floor", [](const Tensor& x) { return floor(x); }},
      {"ceil", [](const Tensor& x) { return ceil(x); }},
      {"round", [](const Tensor& x) { return round(x); }},
      {"trunc", [](const Tensor& x) { return trunc(x); }},
      {"frac", [](const Tensor& x) { return frac(x); }},
      {"sign", [](const Tensor& x) { return sign(x); }},
      {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
      {"selu", [](const Tensor& x) { return selu(x); }},
      {"celu", [](const Tensor& x) { return celu(x, 1.5); }},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 3.0); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"mish", [](const Tensor& x) { return mish(x); }},
      {"hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 0.8); }},
      {"hardsigmoid", [](const Tensor& x) { return hardsigmoid(x); }},
      {"hardswish", [](const Tensor& x) { return hardswish(x); }},
      {"log_sigmoid", [](const Tensor& x) { return log_sigmoid(x); }},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
  };
  return *table;
}

const std::map<std::string, Binary>& binary_functions() {
  static const auto* table = new std::map<std::string, Binary>{
      {"atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }},
      {"fmod", [](const Tensor& a, const Tensor& b) { return fmod(a, b); }},
      {"remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }},
      {"floor_divide", [](const Tensor& a, const Tensor& b) { return floor_divide(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"prelu", [](const Tensor& a, const Tensor& b) { return prelu(reshape(a, {2, 3}), b); }},
  };
  return *table;
}

const std::vector<double>* find(const std::string& name) {
  auto it = kElementwiseReference.find(name);
  return it == kElementwiseReference.end() ? nullptr : &it->second;
}

const std::vector<double>& ref(const std::string& name) {
  const std::vector<double>* v = find(name);
  if (!v) throw std::runtime_error("no reference entry " + name);
  return *v;
}

Tensor leaf(const std::string& name) {
  const std::vector<double>& v = ref(name);
  return tensor(v, {static_cast<int64_t>(v.size())}, kFloat64).set_requires_grad();
}

// Within 1e-12 (relative to max(1, |want|)); NaN and infinities exactly; with signed_zero, a
// zero's sign too.
void expect_matches(const Tensor& t, const std::string& name, bool signed_zero = false, double tolerance = 1e-12) {
  const std::vector<double> got = reshape(t, {-1}).to_vector<double>(), want = ref(name);
  ASSERT_EQ(got.size(), want.size()) << name;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isinf(want[i])) {
      EXPECT_EQ(std::isnan(got[i]), std::isnan(want[i])) << name << "[" << i << "] = " << got[i] << ", PyTorch " << want[i];
      if (std::isinf(want[i])) {
        EXPECT_EQ(got[i], want[i]) << name << "[" << i << "]";
      }
      continue;
    }
    EXPECT_NEAR(got[i], want[i], tolerance * std::max(1.0, std::abs(want[i]))) << name << "[" << i << "]";
    if (signed_zero && want[i] == 0) {
      EXPECT_EQ(std::signbit(got[i]), std::signbit(want[i])) << name << "[" << i << "] sign of zero";
    }
  }
}

Tensor grad_of(const Tensor& y, const Tensor& x, bool create_graph = false) {
  return autograd::grad({y}, {x}, {}, std::nullopt, create_graph, /*allow_unused=*/true)[0];
}

TEST(ElementwiseReference, EveryEntryHasAFunctionAndEveryFunctionAnEntry) {
  std::set<std::string> ops;
  for (const auto& [name, values] : kElementwiseReference) ops.insert(name.substr(0, name.find('/')));
  for (const std::string& op : ops) {
    EXPECT_TRUE(unary_functions().count(op) || binary_functions().count(op)) << op << ": no function in this test";
  }
  for (const auto& [op, fn] : unary_functions()) EXPECT_TRUE(find(op + "/x")) << op << ": no reference entry";
  for (const auto& [op, fn] : binary_functions()) EXPECT_TRUE(find(op + "/a")) << op << ": no reference entry";
}

TEST(ElementwiseReference, UnaryValuesGradientsAndSecondDerivatives) {
  for (const auto& [op, fn] : unary_functions()) {
    SCOPED_TRACE(op);
    Tensor x = leaf(op + "/x");
    const Tensor y = fn(x);
    expect_matches(y, op + "/y", /*signed_zero=*/true);
    const Tensor g = grad_of(sum(y * 3.0), x, /*create_graph=*/true);
    // PyTorch 1.13's hardsigmoid backward multiplies by 1/6 in float32 even for float64 (0.5 + 1.5e-8
    // where 0.5 is exact): compared to float32 precision.
    expect_matches(g.defined() ? g : zeros_like(x), op + "/grad", false, op == "hardsigmoid" ? 1e-7 : 1e-12);
    if (!find(op + "/grad2")) continue;  // PyTorch has no double backward for it
    const Tensor g2 = g.defined() && g.requires_grad() ? grad_of(sum(g), x) : Tensor();
    expect_matches(g2.defined() ? g2 : zeros_like(x), op + "/grad2");
  }
}

TEST(ElementwiseReference, BinaryValuesAndGradients) {
  for (const auto& [op, fn] : binary_functions()) {
    SCOPED_TRACE(op);
    Tensor a = leaf(op + "/a"), b = leaf(op + "/b");
    const Tensor y = fn(a, b);
    expect_matches(y, op + "/y", /*signed_zero=*/true);
    if (!find(op + "/grad_a")) {
      EXPECT_FALSE(y.requires_grad()) << op << " is not differentiable in PyTorch";
      continue;
    }
    auto g = autograd::grad({sum(y * 3.0)}, {a, b});
    expect_matches(g[0], op + "/grad_a");
    expect_matches(g[1], op + "/grad_b");
  }
}

}  // namespace
}  // namespace tg
