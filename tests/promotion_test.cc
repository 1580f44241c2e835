// tapegrad/tests/promotion_test.cc: type promotion against Debian's PyTorch
// (tests/reference/promotion_reference.py): for every pair of operand kinds (float32, float64,
// int64 and bool tensors with dimensions, the same as zero-dim tensors, and C++ int, double and
// bool numbers) and every promoting binary op, the result's dtype and values.
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_split.h"
#include "autograd/tapegrad.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
#include "tests/reference/promotion_reference.inc"

using Operand = std::variant<Tensor, Scalar>;

DType dtype_of_kind(const std::string& base) {
  if (base == "f32") return kFloat32;
  if (base == "f64") return kFloat64;
  if (base == "i64") return kInt64;
  return kBool;
}

// The operands of promotion_reference.py (A on the left, B on the right).
Operand make_operand(const std::string& kind, bool lhs) {
  if (kind == "int") return Scalar(2);
  if (kind == "float") return Scalar(2.5);
  if (kind == "bool") return Scalar(true);
  const bool zero_dim = absl::EndsWith(kind, "_0d");
  const std::string base = zero_dim ? kind.substr(0, kind.size() - 3) : kind;
  const DType dtype = dtype_of_kind(base);
  if (zero_dim) {
    const std::map<std::string, double> values = {{"f32", 1.5}, {"f64", -0.75}, {"i64", 3}, {"b", 1}};
    return scalar_tensor(values.at(base), dtype);
  }
  const std::map<std::string, std::vector<double>> a = {
      {"f32", {-2.5, 0, 1.5}}, {"f64", {-2.5, 0, 1.5}}, {"i64", {-3, 0, 5}}, {"b", {1, 0, 1}}};
  const std::map<std::string, std::vector<double>> b = {
      {"f32", {2, -4, 0.5}}, {"f64", {2, -4, 0.5}}, {"i64", {2, -4, 3}}, {"b", {1, 1, 0}}};
  return to_dtype(tensor((lhs ? a : b).at(base), {3}, kFloat64), dtype);
}

Tensor apply(const std::string& op, const Tensor& a, const Operand& rhs) {
  if (const Scalar* s = std::get_if<Scalar>(&rhs)) {
    if (op == "add") return a + *s;
    if (op == "sub") return a - *s;
    if (op == "mul") return a * *s;
    if (op == "div") return a / *s;
    if (op == "floor_divide") return floor_divide(a, *s);
    if (op == "remainder") return a % *s;
    if (op == "gt") return a > *s;
    if (op == "eq") return a == *s;
    if (op == "where") return where(tensor({1.0, 0.0, 1.0}) > 0.5, a, *s);
  } else {
    const Tensor& b = std::get<Tensor>(rhs);
    if (op == "add") return a + b;
    if (op == "sub") return a - b;
    if (op == "mul") return a * b;
    if (op == "div") return a / b;
    if (op == "floor_divide") return floor_divide(a, b);
    if (op == "remainder") return a % b;
    if (op == "gt") return a > b;
    if (op == "eq") return a == b;
    if (op == "maximum") return maximum(a, b);
    if (op == "where") return where(tensor({1.0, 0.0, 1.0}) > 0.5, a, b);
  }
  throw std::runtime_error("promotion_test: no op " + op);
}

TEST(Promotion, EveryOperandPairAndOpAsPytorch) {
  ASSERT_GT(kPromotionReference.size(), 500u);
  for (const auto& [key, want] : kPromotionReference) {
    SCOPED_TRACE(key);
    const std::vector<std::string> parts = absl::StrSplit(key, ' ');
    ASSERT_EQ(parts.size(), 3u);
    const Operand lhs = make_operand(parts[1], true);
    ASSERT_TRUE(std::holds_alternative<Tensor>(lhs));
    Tensor out;
    try {
      out = apply(parts[0], std::get<Tensor>(lhs), make_operand(parts[2], false));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    EXPECT_EQ(static_cast<int>(out.dtype()), static_cast<int>(want[0]))
        << "dtype " << dtype_name(out.dtype()) << ", PyTorch " << dtype_name(static_cast<DType>(want[0]));
    const std::vector<double> got = reshape(out, {-1}).to_vector<double>();
    ASSERT_EQ(got.size() + 1, want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const double w = want[i + 1];
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else if (std::isinf(w)) {
        EXPECT_EQ(got[i], w) << i;
      } else {
        // float32 results are compared at float32 precision (PyTorch rounds the same way).
        EXPECT_NEAR(got[i], w, 1e-6 * std::max(1.0, std::abs(w))) << i;
      }
    }
  }
}

// The C++ number's kind decides, as a Python number's does: x * 2 keeps int64, x * 2.5 is float32.
TEST(Promotion, IntegerAndFloatingNumbersDiffer) {
  const Tensor i = arange(5);
  EXPECT_EQ((i * 2).dtype(), kInt64);
  EXPECT_EQ((i * 2.5).dtype(), kFloat32);
  EXPECT_EQ((i * 2.5).to_vector<double>(), (std::vector<double>{0, 2.5, 5, 7.5, 10}));
  EXPECT_EQ((i / 2).to_vector<double>(), (std::vector<double>{0, 0.5, 1, 1.5, 2}));
  EXPECT_EQ(sum(i > 1).dtype(), kInt64);
  EXPECT_EQ(sum(i > 1).item<int64_t>(), 3);
  EXPECT_EQ(sum(argmax(tensor({{1.0, 2.0}, {3.0, 0.0}}), 1) == tensor(std::vector<int64_t>{1, 0})).item<int64_t>(), 2);
  EXPECT_EQ(sqrt(i).dtype(), kFloat32);
}

// A promoted operand stays in the graph: the gradient flows back through the conversion.
TEST(Promotion, GradientsFlowThroughThePromotion) {
  Tensor a = tensor({1.0, 2.0}, kFloat32).set_requires_grad();
  Tensor b = tensor({3.0, 4.0}, kFloat64).set_requires_grad();
  Tensor y = sum(a * b);
  EXPECT_EQ(y.dtype(), kFloat64);
  y.backward();
  EXPECT_EQ(a.grad().dtype(), kFloat32);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace tg
