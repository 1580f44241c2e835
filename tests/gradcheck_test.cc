// tapegrad/tests/gradcheck_test.cc: every case of the op case table (tests/op_cases.h) checked
// in float64 by central differences; cases marked second_order also run gradgradcheck. A
// differentiable row that no case records fails the coverage test.
//   bazel test //tests:gradcheck_test
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

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradcheck, ::testing::ValuesIn(op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

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
