// tapegrad/tests/gradcheck_test.cc: every case of the op case table (tests/op_cases.h) checked
// in float64 by central differences; cases marked second_order also run gradgradcheck. A
// differentiable row that no case records fails the coverage test.
//   bazel test //tests:gradcheck_test
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/op_table.h"
#include "autograd/tapegrad.h"
#include "ops/elementwise.h"
#include "gtest/gtest.h"
#include "tests/op_cases.h"

namespace tg {
namespace {

using autograd::gradcheck;
using autograd::gradgradcheck;
using test_cases::Inputs;
using test_cases::OpCase;
using test_cases::op_cases;

class OpGradcheck : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpGradcheck, FirstOrder) {
  const OpCase& c = GetParam();
  const Inputs inputs = c.make_inputs();
  const auto result = gradcheck(c.fn, inputs, c.eps, c.atol);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST_P(OpGradcheck, SecondOrder) {
  const OpCase& c = GetParam();
  if (!c.second_order) GTEST_SKIP() << c.name << " has no second-order row";
  const Inputs inputs = c.make_inputs();
  const auto result = gradgradcheck(c.fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

// Note [Channels last] (ops/array.cc): the case's 4-d inputs stored channels last give the same
// values and gradients as stored contiguously, up to rounding (a kernel may sum in another order).
TEST_P(OpGradcheck, ChannelsLastInputs) {
  const OpCase& c = GetParam();
  const Inputs inputs = c.make_inputs();
  Inputs last;
  bool any_4d = false;
  for (const Tensor& x : inputs) {
    any_4d = any_4d || x.dim() == 4;
    last.push_back(x.dim() == 4 ? Tensor(x.data().contiguous(MemoryFormat::ChannelsLast), x.requires_grad()) : x);
    if (x.dim() == 4) {
      ASSERT_EQ(last.back().suggest_memory_format(), MemoryFormat::ChannelsLast) << shape_str(x.shape());
    }
  }
  if (!any_4d) GTEST_SKIP() << c.name << " has no 4-d input";
  const Tensor want = c.fn(inputs), got = c.fn(last);
  ASSERT_EQ(got.shape(), want.shape());
  const auto close = [](const Tensor& a, const Tensor& b) {
    const ops::Array x = a.data().to(kFloat64).contiguous(), y = b.data().to(kFloat64).contiguous();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double u = x.data<double>()[i], v = y.data<double>()[i];
      if (!(std::abs(u - v) <= 1e-12 + 1e-9 * std::abs(v)) && !(std::isnan(u) && std::isnan(v))) return false;
    }
    return true;
  };
  EXPECT_TRUE(close(got, want)) << "values differ";
  std::vector<Tensor> with_grad, with_grad_last;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) with_grad.push_back(inputs[i]), with_grad_last.push_back(last[i]);
  if (!want.requires_grad() || with_grad.empty()) return;
  const Tensor weights = randn(want.shape(), want.dtype());
  const auto g_want = autograd::grad({want}, with_grad, {weights}, std::nullopt, false, true);
  const auto g_got = autograd::grad({got}, with_grad_last, {weights}, std::nullopt, false, true);
  for (size_t i = 0; i < g_want.size(); ++i) {
    ASSERT_EQ(g_want[i].defined(), g_got[i].defined()) << "input " << i;
    if (g_want[i].defined()) {
      EXPECT_TRUE(close(g_got[i], g_want[i])) << "gradient of input " << i << " differs";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradcheck, ::testing::ValuesIn(op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

// Max pooling of channels-last input (Note [Channels-last max pooling] in ops/pool.cc) keeps its
// output and indices channels last; first and second order (the create_graph backward reshapes
// those indices into planes for scatter_add) agree with central differences.
TEST(ChannelsLastGradcheck, MaxPoolFirstAndSecondOrder) {
  manual_seed(3);
  const Tensor x = Tensor(randn({2, 3, 4, 6}, kFloat64).data().contiguous(MemoryFormat::ChannelsLast), true);
  ASSERT_EQ(x.suggest_memory_format(), MemoryFormat::ChannelsLast);
  const auto fn = [](const std::vector<Tensor>& in) { return max_pool2d(in[0], 2) * max_pool2d(in[0], 2); };
  const auto first = gradcheck(fn, {x});
  EXPECT_TRUE(first.ok) << first.message;
  const auto second = gradgradcheck(fn, {x});
  EXPECT_TRUE(second.ok) << second.message;
}

// Every differentiable row in the op table is exercised by some case above: a new op without a
// gradcheck row fails here.
// Adds the op name of every node reachable from `root`.
void collect_op_names(const std::shared_ptr<Node>& root, std::set<std::string>* names) {
  std::vector<std::shared_ptr<Node>> stack{root};
  while (!stack.empty()) {
    auto n = stack.back();
    stack.pop_back();
    if (!n) continue;
    names->insert(n->name());
    for (auto& next : n->next_edges) stack.push_back(next);
  }
}

TEST(OpGradcheckCoverage, EveryDifferentiableOpHasARow) {
  std::set<std::string> recorded;
  for (const OpCase& c : op_cases()) {
    const Inputs inputs = c.make_inputs();
    Tensor out = c.fn(inputs);
    collect_op_names(out.grad_fn(), &recorded);
    // Backward-only rows (adjoints) are recorded when differentiating with create_graph.
    if (c.second_order) {
      std::vector<Tensor> wrt;
      for (const Tensor& t : inputs)
        if (t.requires_grad()) wrt.push_back(t);
      Tensor cotangent = ones_like(out).set_requires_grad();  // so adjoint rows are recorded too
      for (const Tensor& g : autograd::grad({out}, wrt, {cotangent}, true, true, true)) {
        if (g.defined()) collect_op_names(g.grad_fn(), &recorded);
      }
    }
  }
  for (const OpDef* op : all_ops()) {
    if (!op->backward) continue;
    EXPECT_TRUE(recorded.count(op->name)) << "op '" << op->name << "' has no gradcheck case in tests/op_cases.cc";
  }
}

}  // namespace
}  // namespace tg
