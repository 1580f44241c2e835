// tapegrad/tests/pytorch_reference_test.cc: values and gradients against Debian's PyTorch
// (tests/reference/pytorch_reference.py, float64) where hand-derived formulas go wrong: the
// logistic loss at a logit of exactly 0, gelu's second derivative under a constant upstream
// gradient, max/min over tied elements, signed zeros and NaN.
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
#include "tests/reference/pytorch_reference.inc"

const std::vector<double>& ref(const std::string& name) {
  auto it = kPytorchReference.find(name);
  if (it == kPytorchReference.end()) throw std::runtime_error("no reference entry " + name);
  return it->second;
}

Tensor leaf(const std::string& name, const Shape& shape) {
  return tensor(ref(name), shape, kFloat64).set_requires_grad();
}

// Equal within 1e-12 (relative to 1), NaN where the reference is NaN.
void expect_matches(const Tensor& t, const std::string& name) {
  const std::vector<double> got = t.to_vector<double>(), want = ref(name);
  ASSERT_EQ(got.size(), want.size()) << name;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << name << "[" << i << "] = " << got[i] << ", PyTorch NaN";
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i]))) << name << "[" << i << "]";
    }
  }
}

Tensor grad_of(const Tensor& y, const Tensor& x, bool create_graph = false) {
  return autograd::grad({y}, {x}, {}, std::nullopt, create_graph)[0];
}

TEST(PytorchReference, BceWithLogitsAtZeroAndFarOut) {
  const Shape s{static_cast<int64_t>(ref("bce_x").size())};
  Tensor x = leaf("bce_x", s), t = leaf("bce_t", s);
  Tensor loss = binary_cross_entropy_with_logits(x, t, Reduction::kNone);
  expect_matches(loss, "bce_loss");
  auto g = autograd::grad({sum(loss)}, {x, t}, {}, std::nullopt, /*create_graph=*/true);
  expect_matches(g[0], "bce_grad_x");  // sigmoid(0) - t at the zeros, not -t
  expect_matches(g[1], "bce_grad_t");
  expect_matches(grad_of(sum(g[0]), x), "bce_grad2_x");
  expect_matches(grad_of(binary_cross_entropy_with_logits(x, t), x), "bce_mean_grad_x");
}

TEST(PytorchReference, GeluSecondAndThirdDerivatives) {
  Tensor x = leaf("gelu_x", {static_cast<int64_t>(ref("gelu_x").size())});
  const Tensor g = grad_of(sum(gelu(x) + x * x), x, /*create_graph=*/true);
  expect_matches(g, "gelu_plus_square_grad");
  expect_matches(grad_of(sum(g), x), "gelu_plus_square_grad2");
  const Tensor g1 = grad_of(sum(gelu(x)), x, true);
  const Tensor g2 = grad_of(sum(g1), x, true);
  expect_matches(grad_of(sum(g2), x), "gelu_grad3");
}

TEST(PytorchReference, MaxAndMinShareTheGradientAmongTies) {
  const std::vector<std::pair<std::string, Shape>> cases = {
      {"ties3", {2, 3}}, {"min_ties2", {4}}, {"signed_zero", {3}}, {"nan", {4}}, {"single", {}}};
  for (const auto& [name, shape] : cases) {
    for (const std::string op : {"max", "min"}) {
      SCOPED_TRACE(op + " " + name);
      Tensor x = leaf(op + "_" + name + "_x", shape);
      const Tensor out = op == "max" ? max(x) : min(x);
      expect_matches(out, op + "_" + name + "_value");
      expect_matches(grad_of(out * 3.0, x), op + "_" + name + "_grad");
    }
  }
}

}  // namespace
}  // namespace tg
