// tapegrad/optim/optim_test.cc: every optimizer and scheduler against values produced
// independently by tests/reference/optim_reference.py (checked in beside its output), to 1e-6
// relative; parameter groups; gradient clipping by hand-derived values.
#include <cmath>
#include <map>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "optim/optim.h"

namespace tg::optim {
namespace {

#include "tests/reference/optim_reference.inc"
#include "tests/reference/optimizers_reference.inc"

// The entry `name` of a reference table (optim_reference.inc by default, or optimizers_reference.inc).
const std::vector<double>& reference(const std::string& name,
                                     const std::vector<std::pair<std::string, std::vector<double>>>& table = kOptimReference) {
  for (const auto& [n, v] : table)
    if (n == name) return v;
  throw Error("no reference named " + name);
}
const std::vector<double>& torch_reference(const std::string& name) { return reference(name, kOptimizersReference); }

void expect_relative(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-6 * std::max(1.0, std::fabs(want[i]))) << what << " element " << i;
  }
}

// The reference problem: loss = sum(C * (p - T)^2) / 2.
Tensor make_param() { return tensor({0.5, -1.0, 2.0}, kFloat64).set_requires_grad(); }
Tensor loss_of(const Tensor& p) {
  const Tensor c = tensor({1.0, 3.0, 0.5}, kFloat64), t = tensor({1.0, 0.5, -0.5}, kFloat64);
  const Tensor d = p - t;
  return sum(c * d * d) * 0.5;
}

template <typename MakeOptimizer>
std::vector<double> run(MakeOptimizer make, int steps = 5) {
  Tensor p = make_param();
  auto opt = make(p);
  for (int i = 0; i < steps; ++i) {
    opt->zero_grad();
    loss_of(p).backward();
    opt->step();
  }
  return p.to_vector<double>();
}

TEST(Optimizers, MatchIndependentReference) {
  expect_relative(run([](Tensor p) { return std::make_unique<SGD>(std::vector<Tensor>{p}, 0.1); }), reference("sgd"), "sgd");
  expect_relative(run([](Tensor p) {
                    return std::make_unique<SGD>(std::vector<Tensor>{p}, 0.1, SGDOptions{.momentum = 0.9, .dampening = 0.1}, 0.01);
                  }),
                  reference("sgd_momentum_dampening_wd"), "sgd momentum");
  expect_relative(run([](Tensor p) {
                    return std::make_unique<SGD>(std::vector<Tensor>{p}, 0.05, SGDOptions{.momentum = 0.9, .nesterov = true});
                  }),
                  reference("sgd_nesterov"), "sgd nesterov");
  expect_relative(run([](Tensor p) { return std::make_unique<Adam>(std::vector<Tensor>{p}, 0.1); }), reference("adam"), "adam");
  expect_relative(run([](Tensor p) {
                    return std::make_unique<Adam>(std::vector<Tensor>{p}, 0.1, AdamOptions{.amsgrad = true}, 0.1);
                  }),
                  reference("adam_amsgrad_wd"), "adam amsgrad");
  expect_relative(run([](Tensor p) { return std::make_unique<AdamW>(std::vector<Tensor>{p}, 0.1, AdamOptions{}, 0.1); }),
                  reference("adamw"), "adamw");
  expect_relative(run([](Tensor p) { return std::make_unique<RMSprop>(std::vector<Tensor>{p}, 0.01); }), reference("rmsprop"),
                  "rmsprop");
  expect_relative(run([](Tensor p) {
                    return std::make_unique<RMSprop>(std::vector<Tensor>{p}, 0.01,
                                                     RMSpropOptions{.momentum = 0.5, .centered = true}, 0.1);
                  }),
                  reference("rmsprop_centered_momentum_wd"), "rmsprop centered");
}

// Adagrad, Adadelta, Adamax, NAdam and RAdam against torch.optim itself (12 steps, so RAdam's
// rectified branch is taken too).
TEST(Optimizers, MatchPyTorch) {
  auto run12 = [](auto make) { return run(make, 12); };
  using P = std::vector<Tensor>;
  expect_relative(run12([](Tensor p) { return std::make_unique<Adagrad>(P{p}, 0.1); }), torch_reference("adagrad"), "adagrad");
  expect_relative(run12([](Tensor p) {
                    return std::make_unique<Adagrad>(P{p}, 0.2, AdagradOptions{.lr_decay = 0.05, .initial_accumulator_value = 0.3}, 0.1);
                  }),
                  torch_reference("adagrad_decay_init_wd"), "adagrad decay");
  expect_relative(run12([](Tensor p) { return std::make_unique<Adadelta>(P{p}); }), torch_reference("adadelta"), "adadelta");
  expect_relative(run12([](Tensor p) { return std::make_unique<Adadelta>(P{p}, 0.5, AdadeltaOptions{.rho = 0.8, .eps = 1e-4}, 0.05); }),
                  torch_reference("adadelta_rho_wd"), "adadelta rho");
  expect_relative(run12([](Tensor p) { return std::make_unique<Adamax>(P{p}, 0.05); }), torch_reference("adamax"), "adamax");
  expect_relative(run12([](Tensor p) { return std::make_unique<Adamax>(P{p}, 0.1, AdamaxOptions{.beta1 = 0.8, .beta2 = 0.9}, 0.1); }),
                  torch_reference("adamax_betas_wd"), "adamax betas");
  expect_relative(run12([](Tensor p) { return std::make_unique<NAdam>(P{p}, 0.05); }), torch_reference("nadam"), "nadam");
  expect_relative(run12([](Tensor p) { return std::make_unique<NAdam>(P{p}, 0.1, NAdamOptions{.momentum_decay = 0.05}, 0.1); }),
                  torch_reference("nadam_decay_wd"), "nadam decay");
  expect_relative(run12([](Tensor p) { return std::make_unique<RAdam>(P{p}, 0.05); }), torch_reference("radam"), "radam");
  expect_relative(run12([](Tensor p) { return std::make_unique<RAdam>(P{p}, 0.1, RAdamOptions{.beta2 = 0.5}, 0.05); }),
                  torch_reference("radam_rectified"), "radam rectified");
}

TEST(Optimizers, Float32ParametersTrackTheFloat64Reference) {
  Tensor p = tensor({0.5, -1.0, 2.0}).set_requires_grad();
  Adam opt({p}, 0.1);
  for (int i = 0; i < 5; ++i) {
    opt.zero_grad();
    const Tensor c = tensor({1.0, 3.0, 0.5}), t = tensor({1.0, 0.5, -0.5});
    (sum(c * (p - t) * (p - t)) * 0.5).backward();
    opt.step();
  }
  const auto got = p.to_vector<double>();
  const auto& want = reference("adam");
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
}

TEST(Optimizers, ParamGroupsHaveTheirOwnLearningRates) {
  Tensor a = tensor({1.0}, kFloat64).set_requires_grad(), b = tensor({1.0}, kFloat64).set_requires_grad();
  SGD opt({ParamGroup{{a}, 0.1}, ParamGroup{{b}, 0.01, /*weight_decay=*/1.0}});
  sum(a * 2.0 + b * 2.0).backward();
  opt.step();
  EXPECT_DOUBLE_EQ(a.item(), 1.0 - 0.1 * 2.0);
  EXPECT_DOUBLE_EQ(b.item(), 1.0 - 0.01 * (2.0 + 1.0));
  EXPECT_EQ(opt.state()[0].step, 1);
}

TEST(Optimizers, SkipParametersWithoutGradients) {
  Tensor a = tensor({1.0}, kFloat64).set_requires_grad(), unused = tensor({5.0}, kFloat64).set_requires_grad();
  Adam opt({a, unused}, 0.1);
  sum(a * 3.0).backward();
  opt.step();
  EXPECT_DOUBLE_EQ(unused.item(), 5.0);
  EXPECT_EQ(opt.state()[1].step, 0);
  EXPECT_NE(a.item(), 1.0);
}

TEST(Optimizers, RejectBadArguments) {
  Tensor a = tensor({1.0}, kFloat64).set_requires_grad();
  EXPECT_THROW(SGD({a}, -0.1), Error);
  EXPECT_THROW(Adam({a}, 0.1, AdamOptions{.beta1 = 1.0}), Error);
  EXPECT_THROW(SGD({tensor({1.0})}, 0.1), Error);  // does not require grad
  EXPECT_THROW(SGD({a}, 0.1, SGDOptions{.nesterov = true}), Error);
}

std::vector<double> schedule(LRScheduler& s, Optimizer& opt, int n) {
  std::vector<double> lrs;
  for (int i = 0; i < n; ++i) {
    lrs.push_back(opt.param_groups()[0].lr);
    if (i + 1 < n) s.step();
  }
  return lrs;
}

TEST(Schedulers, MatchIndependentReference) {
  auto opt = [] { return SGD({tensor({1.0}, kFloat64).set_requires_grad()}, 0.1); };
  {
    SGD o = opt();
    StepLR s(o, 2, 0.5);
    expect_relative(schedule(s, o, 7), reference("step_lr"), "StepLR");
  }
  {
    SGD o = opt();
    ExponentialLR s(o, 0.9);
    expect_relative(schedule(s, o, 7), reference("exponential_lr"), "ExponentialLR");
  }
  {
    SGD o = opt();
    CosineAnnealingLR s(o, 10, 0.001);
    expect_relative(schedule(s, o, 15), reference("cosine_lr"), "CosineAnnealingLR");
  }
  {
    SGD o = opt();
    LinearWarmupLR s(o, 4, 0.25);
    expect_relative(schedule(s, o, 7), reference("linear_warmup_lr"), "LinearWarmupLR");
  }
  {
    SGD o = opt();
    OneCycleLR s(o, 0.1, 10);
    expect_relative(schedule(s, o, 10), reference("one_cycle_lr"), "OneCycleLR");
    // As torch: a step() after every one of the 10 batches is allowed (the 10th call), an 11th is not.
    // (the cosine continued past its end, as torch's: tests/reference/optimizers_reference.py)
    s.step();
    EXPECT_NEAR(s.get_last_lr()[0], torch_reference("one_cycle_after_total_steps")[0], 1e-15);
    EXPECT_THROW(s.step(), Error);
  }
}

TEST(Schedulers, MultiStepAndLambdaMatchPyTorch) {
  auto lrs = [](LRScheduler& s, SGD& o) {
    std::vector<double> out;
    for (int i = 0; i < 10; ++i) {
      out.push_back(o.param_groups()[0].lr);
      s.step();
    }
    return out;
  };
  {
    SGD o({tensor({1.0}, kFloat64).set_requires_grad()}, 0.1);
    MultiStepLR s(o, {2, 5, 6}, 0.5);
    expect_relative(lrs(s, o), torch_reference("multistep_lr"), "MultiStepLR");
  }
  {
    SGD o({tensor({1.0}, kFloat64).set_requires_grad()}, 0.1);
    LambdaLR s(o, [](int64_t step) { return 1.0 / std::sqrt(1.0 + static_cast<double>(step)); });
    expect_relative(lrs(s, o), torch_reference("lambda_lr"), "LambdaLR");
  }
  SGD o({tensor({1.0}, kFloat64).set_requires_grad()}, 0.1);
  EXPECT_THROW(MultiStepLR(o, {3, 3}), Error);
}

TEST(Schedulers, ResumeAtAStep) {
  SGD o({tensor({1.0}, kFloat64).set_requires_grad()}, 0.1);
  StepLR s(o, 2, 0.5);
  s.set_step(5);
  EXPECT_DOUBLE_EQ(s.get_last_lr()[0], 0.025);
}

TEST(ClipGradValue, ClampsEveryElementInPlace) {
  Tensor p = tensor({1.0, 2.0, 3.0}, kFloat64).set_requires_grad();
  p.set_grad(tensor({-2.0, 0.25, 5.0}, kFloat64));
  clip_grad_value_({p}, 0.5);
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{-0.5, 0.25, 0.5}));
  EXPECT_THROW(clip_grad_value_({p}, -1), Error);
}

TEST(Optimizers, TheSameParameterInTwoGroupsIsAnError) {
  Tensor p = tensor({1.0}, kFloat64).set_requires_grad(), q = tensor({2.0}, kFloat64).set_requires_grad();
  try {
    SGD({{{p, q}, 0.1}, {{p}, 0.01}});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SGD: parameter 0 of group 1 is also parameter 0 of group 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Adam(std::vector<Tensor>{p, p}, 0.1), Error);
}

TEST(ClipGradNorm, ScalesToMaxNorm) {
  Tensor a = tensor({0.0, 0.0}, kFloat64).set_requires_grad();
  Tensor b = tensor({0.0}, kFloat64).set_requires_grad();
  (sum(a * tensor({3.0, 0.0}, kFloat64)) + sum(b * 4.0)).backward();  // grads [3, 0] and [4]: norm 5
  const double norm = clip_grad_norm_({a, b}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  EXPECT_NEAR(a.grad().to_vector<double>()[0], 3.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_NEAR(b.grad().item(), 4.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, b}, 10.0, INFINITY), 4.0 / (5.0 + 1e-6));  // below max: unchanged
}

}  // namespace
}  // namespace tg::optim
