// tapegrad/tests/autograd_test.cc: the engine's contract: accumulation, backward(grad_output),
// retain_graph, create_graph, functional grad, GradientTape, NoGradGuard, detach, hooks,
// user-defined Functions, graph freeing, and a gradcheck that is shown to fail on a wrong backward.
#include <cmath>
#include <memory>

#include "autograd/node.h"
#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/testing/error_of.h"

namespace tg {
namespace {

using ::testing::DoubleNear;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

TEST(Backward, ScalarLossAccumulatesIntoLeaves) {
  Tensor x = tensor({1.0, 2.0, 3.0}, kFloat64).set_requires_grad();
  Tensor y = sum(x * x * 3.0);  // dy/dx = 6x
  y.backward();
  EXPECT_THAT(values(x.grad()), ElementsAre(6.0, 12.0, 18.0));
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "sum");
}

TEST(Backward, ValueUsedTwiceGetsTheSum) {
  Tensor x = tensor({2.0}, kFloat64).set_requires_grad();
  Tensor a = x * 3.0;
  Tensor y = sum(a + a * x);  // y = 3x + 3x^2, dy/dx = 3 + 6x = 15
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 15.0);
}

TEST(Backward, GradientsAccumulateAcrossCalls) {
  Tensor x = tensor({1.0, -1.0}, kFloat64).set_requires_grad();
  sum(x * 2.0).backward();
  sum(x * 5.0).backward();
  EXPECT_THAT(values(x.grad()), ElementsAre(7.0, 7.0));
}

// Note [Gradient accumulation]: a first gradient that nothing else holds becomes .grad() itself
// (linear's weight gradient, a view of a transposed product, included), with the right values.
TEST(Backward, LoneFirstGradientIsKeptNotCopied) {
  manual_seed(3);
  Tensor w = randn({8, 5}).set_requires_grad(), b = randn({8}).set_requires_grad();
  const Tensor x = randn({3, 5});
  const void* seen_w = nullptr;
  const void* seen_b = nullptr;
  w.register_hook([&](const Tensor& g) {
    seen_w = g.data().data<float>();  // where it is, without holding it
    return Tensor();
  });
  b.register_hook([&](const Tensor& g) {
    seen_b = g.data().data<float>();
    return Tensor();
  });
  sum(linear(x, w, b)).backward();
  EXPECT_EQ(static_cast<const void*>(w.grad().data().data<float>()), seen_w);
  EXPECT_EQ(static_cast<const void*>(b.grad().data().data<float>()), seen_b);
  EXPECT_TRUE(w.grad().is_contiguous());
  const Tensor want = matmul(transpose(ones({3, 8}), 0, 1), x);
  EXPECT_LT(max(abs(w.grad() - want)).item<double>(), 1e-6);
  EXPECT_THAT(values(b.grad()), Each(3.0f));
}

// A gradient someone else holds (here a hook) is copied into .grad(), so accumulating later
// gradients in place leaves theirs as it was.
TEST(Backward, FirstGradientAHookKeepsIsCopied) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor kept;
  w.register_hook([&](const Tensor& g) {
    if (!kept.defined()) kept = g;
    return Tensor();
  });
  sum(w * 3.0).backward();
  sum(w * 5.0).backward();  // added into .grad() in place
  EXPECT_THAT(values(kept), ElementsAre(3.0, 3.0));
  EXPECT_THAT(values(w.grad()), ElementsAre(8.0, 8.0));
}

TEST(Backward, BroadcastGradientDoesNotAliasBetweenInputs) {
  // add's backward passes the same gradient to both inputs; accumulating into one must not
  // change the other.
  Tensor a = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor b = tensor({3.0, 4.0}, kFloat64).set_requires_grad();
  Tensor y = a + b;
  y.backward(tensor({1.0, 1.0}, kFloat64));
  sum(a).backward();
  EXPECT_THAT(values(a.grad()), ElementsAre(2.0, 2.0));
  EXPECT_THAT(values(b.grad()), ElementsAre(1.0, 1.0));
}

// Note [Slice gradients]: slices' gradients are added into their input's buffer in place. The sums
// must equal the reference built without that path (create_graph runs every slice backward), for
// overlapping and strided slices, a slice whose gradient a hook replaces, a slice used twice, the
// input also used whole, a root gradient the caller still holds, and grad() capturing a slice.
TEST(Backward, SliceGradientsAddIntoTheirInputExactlyAsTheSliceBackwards) {
  auto loss_of = [](const Tensor& x) {
    const Tensor y = x * 1.5;  // an intermediate: its buffer collects the slices
    std::vector<Tensor> parts = chunk(y, 3, 1);
    Tensor s = sum(parts[0] * parts[0]) + sum(parts[2] * 2.0);
    for (const Tensor& row : unbind(y, 0)) s = s + sum(row * row * 0.25);
    s = s + sum(y.narrow(1, 1, 4) * 3.0) + sum(slice(y, 1, 0, 6, 2) * -1.0);  // overlapping, strided
    const Tensor twice = y.select(0, 1);
    s = s + sum(twice * twice) + sum(y);  // a slice used twice; the input used whole
    Tensor hooked = y.select(0, 2);
    hooked.register_hook([](const Tensor& g) { return g * 10.0; });
    return s + sum(hooked * hooked);
  };
  manual_seed(5);
  const Tensor data = randn({3, 6}, kFloat64);
  Tensor fast = data.clone().set_requires_grad(), reference = data.clone().set_requires_grad();
  loss_of(fast).backward();
  // grad(), not backward(): create_graph through .grad() would leave a leaf <-> grad cycle.
  const Tensor slow = autograd::grad({loss_of(reference)}, {reference}, {}, true, /*create_graph=*/true)[0].detach();
  EXPECT_TRUE(equal(fast.grad(), slow)) << fast.grad() << slow;
  // A root that is a slice, with a gradient the caller keeps: it is not written into.
  Tensor x = data.clone().set_requires_grad();
  const Tensor root_grad = ones({6}, kFloat64);
  (x * 2.0).select(0, 0).backward(root_grad);
  EXPECT_EQ(values(root_grad), std::vector<double>(6, 1.0));
  EXPECT_EQ(values(x.grad().select(0, 0)), std::vector<double>(6, 2.0));
  EXPECT_EQ(values(x.grad().select(0, 1)), std::vector<double>(6, 0.0));
  // grad() of a slice's output still sees that output's gradient.
  Tensor z = data.clone().set_requires_grad();
  const Tensor row = (z * 3.0).select(0, 1);
  const std::vector<Tensor> g = autograd::grad({sum(row * row)}, {row, z});
  EXPECT_LT(max(abs(g[0] - row.detach() * 2.0)).item(), 1e-12);
  EXPECT_LT(max(abs(g[1].select(0, 1) - row.detach() * 6.0)).item(), 1e-12);
  EXPECT_EQ(values(g[1].select(0, 0)), std::vector<double>(6, 0.0));
}

TEST(Backward, NonScalarWithGradOutput) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor y = x * x;
  y.backward(tensor({10.0, 100.0}, kFloat64));
  EXPECT_THAT(values(x.grad()), ElementsAre(20.0, 400.0));
}

TEST(Backward, NonScalarWithoutGradOutputIsAnError) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor y = x * 2.0;
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("one-element outputs"));
    EXPECT_THAT(e.what(), HasSubstr("[2]"));
  }
}

TEST(Backward, SecondBackwardThroughFreedGraphIsAnError) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward();
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("second time"));
    EXPECT_THAT(e.what(), HasSubstr("retain_graph"));
  }
}

TEST(Backward, RetainGraphAllowsASecondBackward) {
  Tensor x = tensor({0.0, 1.0}, kFloat64).set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_THAT(values(x.grad()), ElementsAre(DoubleNear(2.0, 1e-12), DoubleNear(2 * std::exp(1.0), 1e-12)));
}

TEST(Backward, TensorThatDoesNotRequireGradIsAnError) {
  Tensor x = tensor({1.0});
  EXPECT_THROW(x.backward(), Error);
}

TEST(HigherOrder, CreateGraphGivesSecondAndThirdDerivatives) {
  Tensor x = tensor({2.0}, kFloat64).set_requires_grad();
  Tensor y = sum(pow(x, 4.0));                                      // x^4
  Tensor d1 = autograd::grad({y}, {x}, {}, true, true)[0];          // 4x^3 = 32
  Tensor d2 = autograd::grad({sum(d1)}, {x}, {}, true, true)[0];    // 12x^2 = 48
  Tensor d3 = autograd::grad({sum(d2)}, {x}, {}, false, false)[0];  // 24x = 48
  EXPECT_DOUBLE_EQ(d1.item(), 32.0);
  EXPECT_DOUBLE_EQ(d2.item(), 48.0);
  EXPECT_DOUBLE_EQ(d3.item(), 48.0);
}

TEST(HigherOrder, BackwardWithCreateGraphKeepsGradDifferentiable) {
  Tensor x = tensor({3.0}, kFloat64).set_requires_grad();
  sum(x * x * x).backward(Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();  // 3x^2 = 27, itself a function of x
  EXPECT_DOUBLE_EQ(g.item(), 27.0);
  ASSERT_TRUE(g.requires_grad());
  Tensor gg = autograd::grad({sum(g)}, {x})[0];  // 6x = 18
  EXPECT_DOUBLE_EQ(gg.item(), 18.0);
  x.set_grad(Tensor());  // x.grad's graph references x: break the cycle (see engine.h)
}

TEST(HigherOrder, OpsWithoutDoubleBackwardSayWhich) {
  Tensor x = randn({4, 2, 3, 3}, kFloat64).set_requires_grad();
  Tensor y = sum(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true) * x);
  Tensor g = autograd::grad({y}, {x}, {}, true, true)[0];
  try {
    autograd::grad({sum(g * g)}, {x});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("batch_norm"));
    EXPECT_THAT(e.what(), HasSubstr("double backward"));
  }
}

// The upstream gradient of batch_norm below is a constant (sum's); its gradient still depends on
// x through the saved input, so differentiating it again is refused, not answered with a wrong
// value (gelu's gradient once was built from constants only and slipped through; now gelu is
// twice differentiable).
TEST(HigherOrder, RefusalFiresForAConstantUpstreamGradient) {
  Tensor x = randn({4, 3}, kFloat64).set_requires_grad();
  Tensor y = sum(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true)) + sum(x * x);
  Tensor g = autograd::grad({y}, {x}, {}, true, true)[0];
  try {
    autograd::grad({sum(g * x)}, {x});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("batch_norm"));
    EXPECT_THAT(e.what(), HasSubstr("double backward"));
  }
}

TEST(FunctionalGrad, DoesNotTouchDotGrad) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor w = tensor({3.0, 4.0}, kFloat64).set_requires_grad();
  Tensor y = sum(x * w);
  auto g = autograd::grad({y}, {x, w});
  EXPECT_THAT(values(g[0]), ElementsAre(3.0, 4.0));
  EXPECT_THAT(values(g[1]), ElementsAre(1.0, 2.0));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(FunctionalGrad, GradWithRespectToAnIntermediate) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor h = x * 2.0;
  Tensor y = sum(h * h);  // dy/dh = 2h
  EXPECT_THAT(values(autograd::grad({y}, {h})[0]), ElementsAre(4.0, 8.0));
}

TEST(FunctionalGrad, UnusedInputIsAnErrorUnlessAllowed) {
  Tensor x = tensor({1.0}, kFloat64).set_requires_grad();
  Tensor unused = tensor({1.0}, kFloat64).set_requires_grad();
  Tensor y = sum(x * 2.0);
  EXPECT_THROW(autograd::grad({y}, {unused}, {}, true), Error);
  auto g = autograd::grad({y}, {x, unused}, {}, false, false, /*allow_unused=*/true);
  EXPECT_DOUBLE_EQ(g[0].item(), 2.0);
  EXPECT_FALSE(g[1].defined());
}

TEST(GradientTape, WatchedConstantsAndVariables) {
  Tensor x = tensor({3.0}, kFloat64);  // a constant, watched like tf.constant
  Tensor w = tensor({2.0}, kFloat64).set_requires_grad();
  {
    autograd::GradientTape tape;
    tape.watch(x);
    Tensor y = sum(x * x * w);
    auto g = tape.gradient(y, {x, w});
    EXPECT_DOUBLE_EQ(g[0].item(), 12.0);  // 2xw
    EXPECT_DOUBLE_EQ(g[1].item(), 9.0);   // x^2
    EXPECT_THROW(tape.gradient(y, {x}), Error);  // non-persistent: once
  }
  EXPECT_FALSE(x.requires_grad());  // watching ends with the tape
}

TEST(GradientTape, PersistentTapeAndRecordingUnderNoGrad) {
  NoGradGuard outer;  // the tape records even inside a no-grad region
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  autograd::GradientTape tape(/*persistent=*/true);
  Tensor y = x * x;  // non-scalar: summed, like tf
  Tensor z = sum(x * 3.0);
  EXPECT_THAT(values(tape.gradient(y, x)), ElementsAre(2.0, 4.0));
  EXPECT_THAT(values(tape.gradient(z, x)), ElementsAre(3.0, 3.0));
  EXPECT_THAT(values(tape.gradient(y, x)), ElementsAre(2.0, 4.0));
}

TEST(NoGrad, NothingIsRecorded) {
  Tensor x = tensor({1.0}, kFloat64).set_requires_grad();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = x * 2.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Detach, SharesDataAndCutsTheGraph) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor h = x * 2.0;
  Tensor d = h.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.data().storage(), h.data().storage());
  Tensor y = sum(h * d);  // d is a constant: dy/dx = 2 * d
  y.backward();
  EXPECT_THAT(values(x.grad()), ElementsAre(4.0, 8.0));
}

TEST(Hooks, LeafAndNonLeafHooksSeeAndReplaceGradients) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor h = x * 3.0;
  std::vector<double> seen;
  h.register_hook([&](const Tensor& g) {
    seen = values(g);
    return g * 2.0;  // doubles the gradient flowing on
  });
  x.register_hook([](const Tensor& g) { return g + 1.0; });
  sum(h).backward();
  EXPECT_THAT(seen, ElementsAre(1.0, 1.0));
  EXPECT_THAT(values(x.grad()), ElementsAre(7.0, 7.0));  // 1 * 2 * 3 + 1
}

TEST(Hooks, PostAccumulateGradHookSeesTheSumOnce) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  std::vector<std::vector<double>> seen;
  x.register_post_accumulate_grad_hook([&](const Tensor& leaf) { seen.push_back(values(leaf.grad())); });
  sum(x * x + x).backward();  // x used twice: one accumulation of 2x + 1
  EXPECT_THAT(seen, ElementsAre(ElementsAre(3.0, 5.0)));
  sum(x).backward();    // accumulates into the existing .grad(); the hook sees the total
  EXPECT_THAT(seen.back(), ElementsAre(4.0, 6.0));
  autograd::grad({sum(x * 2.0)}, {x});  // grad() does not accumulate: no hook
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_NE(error_of([&] { (x * 2.0).register_post_accumulate_grad_hook([](const Tensor&) {}); })
                .find("only a leaf that requires grad"),
            std::string::npos);
}

TEST(Hooks, RetainGradOnIntermediate) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).set_requires_grad();
  Tensor h = x * x;
  h.retain_grad();
  sum(h * 5.0).backward();
  EXPECT_THAT(values(h.grad()), ElementsAre(5.0, 5.0));
}

// Note [Gradient accumulation]: leaves' .grad() and retained .grad() sum gradients by the same
// rule, so under create_graph both keep the sum differentiable (a retained .grad() used to drop
// the graph on its second accumulation).
TEST(Hooks, AccumulationUnderCreateGraphStaysDifferentiableForLeavesAndRetainedGrads) {
  Tensor x = tensor({2.0}, kFloat64).set_requires_grad();
  Tensor y = x * x;
  y.retain_grad();
  Tensor z = y * y * x;  // = x^5; dz/dy = 2 y x; dz/dx = 5 x^4 = 80
  z.backward(Tensor(), /*retain_graph=*/true, /*create_graph=*/true);
  z.backward(Tensor(), /*retain_graph=*/true, /*create_graph=*/true);
  ASSERT_TRUE(y.grad().requires_grad());
  ASSERT_TRUE(x.grad().requires_grad());
  EXPECT_THAT(values(y.grad()), ElementsAre(32.0));       // 2 * (2 y x) = 4 * 4 * 2
  EXPECT_THAT(values(x.grad()), ElementsAre(160.0));      // 2 * 80
  // d(y.grad)/dx = 4 d(y x)/dx = 4 (2x * x + y) = 48
  EXPECT_THAT(values(autograd::grad({y.grad()}, {x}, {}, true, false)[0]), ElementsAre(48.0));
  // d(x.grad)/dx = 2 * 20 x^3 = 320
  EXPECT_THAT(values(autograd::grad({x.grad()}, {x}, {}, true, false)[0]), ElementsAre(320.0));
  // As in PyTorch, backward(create_graph=true) makes each tensor's .grad() reference a graph that
  // saved the tensor: a reference cycle, broken by clearing the gradients (LeakSanitizer checks).
  x.set_grad(Tensor());
  y.set_grad(Tensor());
}

struct Cube : autograd::Function {
  std::string name() const override { return "cube"; }
  Tensor forward(autograd::FunctionContext& ctx, const std::vector<Tensor>& in) override {
    ctx.save_for_backward({in[0]});
    return in[0] * in[0] * in[0];
  }
  std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& g) override {
    const Tensor x = ctx.saved()[0];
    return {g * x * x * 3.0};
  }
};

// Deliberately wrong: claims d(x^2)/dx = 3x.
struct WrongSquare : autograd::Function {
  std::string name() const override { return "wrong_square"; }
  Tensor forward(autograd::FunctionContext& ctx, const std::vector<Tensor>& in) override {
    ctx.save_for_backward({in[0]});
    return in[0] * in[0];
  }
  std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& g) override {
    return {g * ctx.saved()[0] * 3.0};
  }
};

// Right first derivative (2x) but computed from a detached copy: its second derivative is wrong.
struct SquareWithConstantBackward : autograd::Function {
  std::string name() const override { return "square_constant_backward"; }
  Tensor forward(autograd::FunctionContext& ctx, const std::vector<Tensor>& in) override {
    ctx.save_for_backward({in[0]});
    return in[0] * in[0];
  }
  std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& g) override {
    return {g * ctx.saved()[0].detach() * 2.0};
  }
};

TEST(CustomFunction, ForwardBackwardAndHigherOrder) {
  auto cube = std::make_shared<Cube>();
  Tensor x = tensor({2.0}, kFloat64).set_requires_grad();
  Tensor y = autograd::apply_function(cube, {x});
  EXPECT_DOUBLE_EQ(y.item(), 8.0);
  EXPECT_EQ(y.grad_fn()->name(), "cube");
  Tensor d1 = autograd::grad({y}, {x}, {}, true, true)[0];
  EXPECT_DOUBLE_EQ(d1.item(), 12.0);
  EXPECT_DOUBLE_EQ(autograd::grad({d1}, {x})[0].item(), 12.0);  // 6x
  auto ok = autograd::gradcheck([&](const std::vector<Tensor>& in) { return autograd::apply_function(cube, in); },
                                {randn({3}, kFloat64).set_requires_grad()});
  EXPECT_TRUE(ok.ok) << ok.message;
}

TEST(Gradcheck, CatchesAWrongBackward) {
  auto wrong = std::make_shared<WrongSquare>();
  auto result = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) { return autograd::apply_function(wrong, in); },
      {tensor({0.5, -1.5}, kFloat64).set_requires_grad()});
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.message, HasSubstr("Jacobian mismatch"));
}

TEST(Gradcheck, GradgradcheckCatchesAWrongDoubleBackward) {
  auto fn = std::make_shared<SquareWithConstantBackward>();
  auto f = [&](const std::vector<Tensor>& in) { return autograd::apply_function(fn, in); };
  const Tensor x = tensor({0.5, -1.5}, kFloat64).set_requires_grad();
  EXPECT_TRUE(autograd::gradcheck(f, {x}).ok);
  auto result = autograd::gradgradcheck(f, {x});
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.message, HasSubstr("gradgradcheck"));
}

TEST(Gradcheck, RejectsFloat32Inputs) {
  EXPECT_THROW(autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0]; },
                                   {tensor({1.0}).set_requires_grad()}),
               Error);
}

TEST(Memory, GraphIsFreedWhenNoLongerReferenced) {
  std::weak_ptr<Node> node;
  std::weak_ptr<TensorImpl> saved_input;
  Tensor x = randn({8, 8}, kFloat64).set_requires_grad();
  {
    Tensor h = tanh(matmul(x, x));
    node = h.grad_fn();
    Tensor y = sum(h);
    y.backward();
    EXPECT_FALSE(node.expired());  // h still references its node
  }
  EXPECT_TRUE(node.expired());
}

TEST(Memory, SavedTensorsAreReleasedAfterBackward) {
  Tensor x = randn({4}, kFloat64).set_requires_grad();
  Tensor big = randn({256, 4}, kFloat64);
  std::weak_ptr<ops::Storage> storage = big.data().storage();
  Tensor y = sum(matmul(big, reshape(x, {4, 1})));
  big = Tensor();
  EXPECT_FALSE(storage.expired());  // saved by matmul for backward
  y.backward();
  EXPECT_TRUE(storage.expired());  // released: no retain_graph
}

TEST(Memory, OutputSavedByItsOwnNodeDoesNotLeak) {
  std::weak_ptr<Node> node;
  {
    Tensor x = randn({3}, kFloat64).set_requires_grad();
    Tensor y = exp(x);  // exp saves its output
    node = y.grad_fn();
  }
  EXPECT_TRUE(node.expired());
}

TEST(Memory, RepeatedTrainingStepsDoNotGrowTheGraph) {
  Tensor w = randn({16, 16}, kFloat64).set_requires_grad();
  Tensor x = randn({4, 16}, kFloat64);
  std::weak_ptr<Node> previous;
  for (int step = 0; step < 5; ++step) {
    Tensor loss = mean(relu(matmul(x, w)));
    loss.backward();
    {
      NoGradGuard no_grad;
      w.add_(w.grad(), -0.1);
    }
    w.set_grad(Tensor());
    EXPECT_TRUE(previous.expired()) << "step " << step;
    previous = loss.grad_fn();
  }
}

TEST(InPlace, RefusedWhileRecordingOnTensorsThatRequireGrad) {
  Tensor w = tensor({1.0}, kFloat64).set_requires_grad();
  EXPECT_THROW(w.add_(tensor({1.0}, kFloat64)), Error);
  NoGradGuard no_grad;
  w.add_(tensor({1.0}, kFloat64));
  EXPECT_DOUBLE_EQ(w.item(), 2.0);
}

TEST(RequiresGrad, OnlyFloatingLeaves) {
  EXPECT_THROW(tensor(std::vector<int64_t>{1, 2}).set_requires_grad(), Error);
  Tensor x = tensor({1.0}).set_requires_grad();
  Tensor y = x * 2.0;
  EXPECT_THROW(y.set_requires_grad(false), Error);
}

}  // namespace
}  // namespace tg

namespace tg {
namespace {

TEST(DetectAnomaly, LogOfZeroInForward) {
  Tensor x = tensor({1.0, 0.0}, kFloat64).set_requires_grad();
  autograd::DetectAnomalyGuard detect;
  try {
    sum(log(x * 2.0));
    FAIL() << "expected an anomaly";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("forward of 'log' (inputs [2])"));
    EXPECT_THAT(e.what(), HasSubstr("-inf at element 1"));
    EXPECT_THAT(e.what(), HasSubstr("from finite inputs"));
  }
}

TEST(DetectAnomaly, ZeroOverZero) {
  Tensor x = zeros({3}, kFloat64).set_requires_grad();
  autograd::DetectAnomalyGuard detect;
  EXPECT_THROW(x / x, Error);
  try {
    x / x;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("forward of 'div'"));
    EXPECT_THAT(e.what(), HasSubstr("nan at element 0"));
  }
}

TEST(InferenceMode, RecordsNothingAndGuardsItsTensors) {
  Tensor w = randn({3, 3}, kFloat64).set_requires_grad();
  Tensor x, y;
  {
    InferenceMode guard;
    EXPECT_TRUE(InferenceMode::is_enabled());
    EXPECT_FALSE(GradMode::is_enabled());
    x = randn({2, 3}, kFloat64);
    y = matmul(x, w);
    EXPECT_FALSE(y.requires_grad());
    x.add_(1.0);  // in place inside: allowed
    {
      InferenceMode off(false);
      EXPECT_FALSE(InferenceMode::is_enabled());
      EXPECT_FALSE(GradMode::is_enabled());  // InferenceMode(false) leaves recording as it was
    }
  }
  EXPECT_FALSE(InferenceMode::is_enabled());
  EXPECT_TRUE(GradMode::is_enabled());
  // An op that would save the inference tensor for backward refuses, naming itself.
  EXPECT_THAT(error_of([&] { matmul(x, w); }), HasSubstr("matmul: input 0 is an inference tensor"));
  // Reading it where nothing of it is saved is fine (as in PyTorch), as is any use not recording.
  (x + w.index({0})).sum().backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{2, 2, 2, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(matmul(x, w.detach()).requires_grad());
  // Writing it in place outside InferenceMode is refused; a clone is an ordinary tensor.
  EXPECT_THAT(error_of([&] { x.mul_(2.0); }), HasSubstr("mul_: an in-place write to an inference tensor"));
  Tensor c = x.clone();
  c.mul_(2.0);
  matmul(c, w).sum().backward();
  // A custom Function saving an inference tensor is refused the same way.
  Tensor inference_leaf;
  {
    InferenceMode guard;
    inference_leaf = randn({2}, kFloat64).set_requires_grad();
  }
  EXPECT_THAT(error_of([&] { autograd::apply_function(std::make_shared<Cube>(), {inference_leaf}); }),
              HasSubstr("cube: saved tensor 0 is an inference tensor"));
}

TEST(DetectAnomaly, NaNInBackwardNamesTheForwardOp) {
  // sqrt(0) is fine forward, but its gradient 1 / (2 sqrt(0)) is infinite.
  Tensor x = tensor({4.0, 0.0}, kFloat64).set_requires_grad();
  Tensor y = sum(sqrt(x));
  autograd::DetectAnomalyGuard detect;
  try {
    y.backward();
    FAIL() << "expected an anomaly";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("while computing the backward of 'sqrt' (recorded in forward with inputs [2])"));
  }
}

TEST(DetectAnomaly, OffByDefault) {
  Tensor x = tensor({0.0}, kFloat64);
  EXPECT_TRUE(std::isinf(log(x).item()));
}

// With dropout, attention is composed (matmul, softmax, dropout): reproducible from a generator,
// equal to the fused row at p -> 0 in expectation, differentiable.
TEST(Attention, DropoutIsReproducibleAndDifferentiable) {
  ops::Generator g1(3), g2(3);
  const Tensor q = randn({2, 4, 8}).set_requires_grad(), k = randn({2, 6, 8}), v = randn({2, 6, 8});
  const Tensor a = scaled_dot_product_attention(q, k, v, {}, 0.5, false, std::nullopt, &g1);
  const Tensor b = scaled_dot_product_attention(q, k, v, {}, 0.5, false, std::nullopt, &g2);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), scaled_dot_product_attention(q, k, v).to_vector<float>());
  sum(a).backward();
  ASSERT_TRUE(q.grad().defined());
  EXPECT_EQ(q.grad().shape(), q.shape());
  // Averaged over many masks, dropout leaves the expectation: the mean of 400 draws is within 5
  // standard errors; at p = 0.5 each kept weight is doubled, so an output's variance is
  // sum_j P_ij^2 v_j^2.
  ops::Generator g(4);
  Tensor total = zeros({2, 4, 8});
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 400; ++i) total = total + scaled_dot_product_attention(q, k, v, {}, 0.5, false, std::nullopt, &g);
  }
  const Tensor p = softmax(matmul(q.detach(), transpose(k, 1, 2)) / std::sqrt(8.0), -1);
  const std::vector<float> variance = matmul(p * p, v * v).to_vector<float>();
  const std::vector<float> mean_out = (total / 400.0).to_vector<float>(), exact = scaled_dot_product_attention(q, k, v).to_vector<float>();
  for (size_t i = 0; i < exact.size(); ++i) EXPECT_NEAR(mean_out[i], exact[i], 5 * std::sqrt(variance[i] / 400)) << i;
}

}  // namespace
}  // namespace tg
