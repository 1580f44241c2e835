// tapegrad/tests/inplace_test.cc: in-place ops under autograd: gradients through writes to
// non-leaves, views and bases (float64 gradchecks, i.e. finite differences, and the same programs
// against PyTorch's autograd: tests/reference/inplace_reference.py), version-counter errors
// naming both ops, PyTorch's refusals, dtype and shape rules, index_put_, and that optimizer
// steps and NoGradGuard writes still work.
#include <map>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "optim/optim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/testing/error_of.h"

namespace tg {
namespace {

#include "tests/reference/inplace_reference.inc"

using indexing::Slice;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

void expect_gradcheck(const autograd::TensorFunction& fn, const std::vector<Tensor>& inputs) {
  auto result = autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

// The programs tests/reference/inplace_reference.py runs in PyTorch, under the same names.
struct Program {
  const char* name;
  autograd::TensorFunction fn;
  std::vector<Shape> shapes;
};

const std::vector<Program>& programs() {
  static const auto* p = new std::vector<Program>{
      {"arithmetic",
       [](const std::vector<Tensor>& in) {
         Tensor y = in[0] * 2.0;
         y.mul_(in[1]).add_(in[1], 0.5).sub_(1.0).div_(in[1] + 3.0);
         y += in[0];
         y *= y + 1.0;  // the saved self must be the value before the write
         return y.sigmoid_().sum();
       },
       {{3, 2}, {3, 2}}},
      {"write_into_plain_buffer",
       [](const std::vector<Tensor>& in) {
         Tensor buffer = zeros({2, 3}, kFloat64);
         buffer.copy_(in[0]);  // broadcast [3] -> [2, 3]
         buffer.mul_(in[1]);
         return buffer.pow_(2).sum();
       },
       {{3}, {2, 3}}},
      {"views_and_base",
       [](const std::vector<Tensor>& in) {
         Tensor base = in[0].clone();           // [4, 3]
         Tensor row = base.select(0, 1);
         Tensor column = base.narrow(1, 2, 1);  // overlaps row at (1, 2)
         row.mul_(in[1]);                       // through a view
         Tensor after_row = column * 1.0;       // a sibling view sees the write
         base.exp_();                           // the base: both views now see exp
         return after_row.sum() + row.sum() * 2.0 + column.sum() * 3.0 + base.sum();
       },
       {{4, 3}, {3}}},
      {"view_of_transposed_view",
       [](const std::vector<Tensor>& in) {
         Tensor base = in[0] + 0.0;
         Tensor t = base.t();
         Tensor corner = t.slice(0, 1, 3).slice(1, 0, 2);
         corner.clamp_(-0.5, 0.5);
         return (base * base).sum() + (t * 2.0).sum();
       },
       {{3, 4}}},
      {"index_put_writes",
       [](const std::vector<Tensor>& in) {
         Tensor x = in[0].clone();  // [4, 3]
         x.index_put_({Slice(), 0}, in[1]);  // a view: [4]
         x.index_put_({tensor(std::vector<int64_t>{3, 0})}, in[2].narrow(0, 0, 2));
         x.index_put_({tensor(std::vector<int64_t>{1, 1})}, in[2].narrow(0, 2, 1), /*accumulate=*/true);
         return (x * x).sum();
       },
       {{4, 3}, {4}, {3, 3}}},
      {"masked_fill_then_tanh",
       [](const std::vector<Tensor>& in) {
         Tensor y = in[0] * in[0];
         y.masked_fill_(in[0] > 0.5, 0.25);
         return y.tanh_().sum();
       },
       {{5}}},
  };
  return *p;
}

TEST(Inplace, ProgramsPassGradcheck) {
  for (const Program& p : programs()) {
    std::vector<Tensor> inputs;
    for (const Shape& s : p.shapes) inputs.push_back(randn(s, kFloat64).set_requires_grad());
    SCOPED_TRACE(p.name);
    expect_gradcheck(p.fn, inputs);
  }
}

// Our backward (not finite differences) against PyTorch's autograd on the same inputs.
TEST(Inplace, ProgramsMatchPyTorch) {
  auto reference = [](const std::string& name) {
    auto it = kInplaceReference.find(name);
    TG_CHECK(it != kInplaceReference.end(), "no reference entry ", name);
    return it->second;
  };
  size_t entries = 0;  // every program's out and grads, none left over
  for (const Program& p : programs()) entries += 1 + p.shapes.size();
  EXPECT_EQ(kInplaceReference.size(), entries);
  for (const Program& p : programs()) {
    SCOPED_TRACE(p.name);
    std::vector<Tensor> inputs;
    for (size_t k = 0; k < p.shapes.size(); ++k) {
      int64_t n = 1;
      for (int64_t d : p.shapes[k]) n *= d;
      const Tensor t = k == 0 ? linspace(-1.5, 1.3, n, kFloat64) : cos(arange(0, n, 1, kFloat64) + static_cast<double>(k));
      inputs.push_back(reshape(t, p.shapes[k]).detach().set_requires_grad());
    }
    const Tensor out = p.fn(inputs);
    EXPECT_NEAR(out.item(), reference(std::string(p.name) + "/out")[0], 1e-12);
    const std::vector<Tensor> grads = autograd::grad({out}, inputs);
    for (size_t k = 0; k < inputs.size(); ++k) {
      const std::vector<double> want = reference(std::string(p.name) + "/grad/" + std::to_string(k)),
                                got = values(grads[k]);
      ASSERT_EQ(got.size(), want.size()) << k;
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "grad " << k << " [" << i << "]";
    }
  }
}

TEST(Inplace, MaskedFillSecondOrder) {
  std::vector<Tensor> inputs{tensor({-1.0, 0.2, 0.9, 2.0, -0.3}, kFloat64).set_requires_grad()};
  auto result = autograd::gradgradcheck(programs().back().fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(Inplace, IndexPutBasicAdvancedAndAccumulate) {
  expect_gradcheck([](const std::vector<Tensor>& in) {
    Tensor x = in[0].clone();  // [4, 3]
    x.index_put_({Slice(), 0}, in[1]);                                      // a view: [4]
    x.index_put_({tensor(std::vector<int64_t>{3, 0, 3})}, in[2]);          // rows; 3 twice: last wins
    x.index_put_({tensor(std::vector<int64_t>{1, 1})}, in[2].narrow(0, 0, 1), /*accumulate=*/true);
    return (x * x).sum();
  }, {randn({4, 3}, kFloat64).set_requires_grad(), randn({4}, kFloat64).set_requires_grad(),
      randn({3, 3}, kFloat64).set_requires_grad()});
  Tensor x = zeros({3});
  x.index_put_({tensor(std::vector<int64_t>{0, 2, 0})}, tensor({1.0, 2.0, 3.0}));
  EXPECT_THAT(values(x), ElementsAre(3.0, 0.0, 2.0));  // last write wins, as PyTorch on CPU
  x.index_put_({tensor(std::vector<int64_t>{1, 1})}, tensor({1.0, 2.0}), true);
  EXPECT_THAT(values(x), ElementsAre(3.0, 3.0, 2.0));
  x.index_put_({x > 2.5}, -1);
  EXPECT_THAT(values(x), ElementsAre(-1.0, -1.0, 2.0));
}

TEST(Inplace, ModifyingASavedValueThrowsNamingBothOps) {
  Tensor x = randn({3}).set_requires_grad();
  Tensor y = x.sigmoid();  // sigmoid saves its output
  Tensor loss = y.sum();
  y.mul_(2.0);
  std::string message = error_of([&] { loss.backward(); });
  EXPECT_THAT(message, HasSubstr("sigmoid"));
  EXPECT_THAT(message, HasSubstr("mul_"));
  EXPECT_THAT(message, HasSubstr("version 1, saved at version 0"));

  Tensor w = randn({2, 2}).set_requires_grad();
  Tensor a = randn({2, 2});
  Tensor z = matmul(a, w).sum();  // saves a
  a.add_(1.0);
  EXPECT_THAT(error_of([&] { z.backward(); }), HasSubstr("add_"));
}

TEST(Inplace, OptimizerStepBeforeBackwardIsCaught) {
  Tensor w = randn({2, 2}).set_requires_grad();
  Tensor x = randn({3, 2}).set_requires_grad();
  optim::SGD sgd({w}, 0.1);
  Tensor loss = matmul(x, w).sum();  // saves w for x's gradient
  w.set_grad(ones({2, 2}));
  sgd.step();
  EXPECT_THAT(error_of([&] { loss.backward(); }), HasSubstr("SGD.step()"));
}

// Inference convolutions keep their weights packed (Note [Packed weights] in
// ops/internal/onednn.h) while the weights' version is unchanged: every way of writing them
// between two inference calls must be seen.
TEST(Inplace, InferenceSeesEveryWriteToConvWeights) {
  const Tensor x = randn({1, 16, 12, 12}).contiguous(MemoryFormat::ChannelsLast);
  Tensor w = randn({32, 16, 3, 3}).set_requires_grad();
  auto infer = [&] {
    NoGradGuard no_grad;
    return conv2d(x, w, Tensor(), 1, 1);
  };
  auto expect_current = [&](const char* after) {
    const Tensor fresh = conv2d(x, w.detach().clone(), Tensor(), 1, 1);  // new storage: packed afresh
    EXPECT_EQ(max(abs(infer() - fresh)).item(), 0) << "stale weights after " << after;
  };
  const Tensor before = infer();
  expect_current("nothing");

  optim::SGD sgd({w}, 0.5);
  (conv2d(x, w, Tensor(), 1, 1) * conv2d(x, w, Tensor(), 1, 1)).sum().backward();
  sgd.step();
  expect_current("an optimizer step");
  EXPECT_GT(max(abs(infer() - before)).item(), 0.1);
  {
    NoGradGuard no_grad;
    w.mul_(-1.5);
  }
  expect_current("mul_");
  {
    NoGradGuard no_grad;
    w.copy_(randn({32, 16, 3, 3}));
  }
  expect_current("copy_");
  w.data_ptr<float>()[7] += 3.0f;
  w.increment_version();
  expect_current("a write through data_ptr and increment_version");
}

TEST(Inplace, RefusalsAsPyTorch) {
  Tensor w = randn({3}).set_requires_grad();
  EXPECT_THAT(error_of([&] { w.add_(1.0); }), HasSubstr("leaf tensor that requires grad"));
  EXPECT_THAT(error_of([&] { w.narrow(0, 0, 2).mul_(2.0); }), HasSubstr("view of a leaf"));
  Tensor view_made_without_grad;
  Tensor h = w * 2.0;
  {
    NoGradGuard no_grad;
    view_made_without_grad = h.narrow(0, 0, 1);
    w.add_(1.0);  // fine without recording
  }
  EXPECT_THAT(error_of([&] { view_made_without_grad.mul_(2.0); }), HasSubstr("NoGradGuard"));
  Tensor i = arange(3);
  EXPECT_THAT(error_of([&] { i.add_(2.5); }), HasSubstr("can't be cast"));
  EXPECT_THAT(error_of([&] { i.mul_(tensor({1.0, 2.0, 3.0})); }), HasSubstr("can't be cast"));
  Tensor small = zeros({3});
  EXPECT_THAT(error_of([&] { small.add_(ones({2, 3})); }), HasSubstr("cannot broadcast"));
  Tensor expanded = zeros({1, 3}).expand({2, 3});
  EXPECT_THAT(error_of([&] { expanded.add_(1.0); }), HasSubstr("sharing memory"));
  i += 2;  // int + int stays int
  EXPECT_THAT(values(i), ElementsAre(2.0, 3.0, 4.0));
  EXPECT_EQ(i.dtype(), kInt64);
  Tensor f = zeros({2});
  f.fill_(2.5).add_(tensor({1.0, 2.0}, kFloat64));  // float64 into float32 is allowed
  EXPECT_THAT(values(f), ElementsAre(3.5, 4.5));
}

TEST(Inplace, EmptyAndZeroDim) {
  Tensor e = zeros({0, 3});
  e.add_(1.0).mul_(ones({3}));
  EXPECT_EQ(e.numel(), 0);
  Tensor s = scalar_tensor(2.0, kFloat64);
  s.pow_(3);
  EXPECT_DOUBLE_EQ(s.item(), 8.0);
}

}  // namespace
}  // namespace tg
