// tapegrad/optim/optim_test.cc: every optimizer and scheduler against values produced
// independently by tests/reference/optim_reference.py (checked in beside its output), to 1e-6
// relative; parameter groups; gradient clipping by hand-derived values.
#include <cmath>
#include <map>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "optim/optim.h"
#include "optim/optim_test_util.h"

namespace tg::optim {
namespace {

#include "tests/reference/optim_reference.inc"
#include "tests/reference/optimizers_reference.inc"

const std::vector<double>& reference(const std::string& name) { return reference_entry(kOptimReference, name); }
const std::vector<double>& torch_reference(const std::string& name) { return reference_entry(kOptimizersReference, name); }

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

// The LBFGS reference problem (tests/reference/optimizers_reference.py): a Rosenbrock valley in a
// plus a quartic in b coupled to it.
struct LbfgsProblem {
  Tensor a = tensor({-1.2, 1.0}, kFloat64).set_requires_grad();
  Tensor b = tensor(std::vector<double>{0.3, -0.4}, Shape{2, 1}, kFloat64).set_requires_grad();
  Tensor loss() const {
    const Tensor a0 = a.index({0}), a1 = a.index({1});
    const Tensor d = b - 1.0;
    return (1.0 - a0) * (1.0 - a0) + (a1 - a0 * a0) * (a1 - a0 * a0) * 100.0 + sum(d * d * d * d) +
           (a0 * b.index({0, 0})) * (a0 * b.index({0, 0})) * 0.5;
  }
};

// After each of `steps` step() calls: the returned loss, a, b, n_iter and func_evals.
std::vector<double> run_lbfgs(LbfgsProblem& problem, LBFGS& opt, int steps) {
  std::vector<double> out;
  for (int i = 0; i < steps; ++i) {
    const double loss = opt.step([&] {
                              opt.zero_grad();
                              Tensor l = problem.loss();
                              l.backward();
                              return l;
                            }).item();
    out.push_back(loss);
    for (double v : problem.a.to_vector<double>()) out.push_back(v);
    for (double v : problem.b.to_vector<double>()) out.push_back(v);
    out.push_back(opt.state()[0].buffers.at("n_iter").item());
    out.push_back(opt.state()[0].buffers.at("func_evals").item());
  }
  return out;
}

TEST(LBFGS, MatchesPyTorch) {
  const std::vector<std::pair<std::string, LBFGSOptions>> cases = {
      {"lbfgs_fixed_step", {}},
      {"lbfgs_strong_wolfe", {.line_search_fn = "strong_wolfe"}},
      {"lbfgs_short_history_max_iter", {.max_iter = 7, .history_size = 3, .line_search_fn = "strong_wolfe"}},
      {"lbfgs_tolerance_grad", {.tolerance_grad = 1e-3, .line_search_fn = "strong_wolfe"}},
      {"lbfgs_max_eval_tolerance_change", {.max_eval = 9, .tolerance_change = 1e-3}},
  };
  const std::map<std::string, double> lrs = {{"lbfgs_fixed_step", 0.1}, {"lbfgs_strong_wolfe", 1},
                                             {"lbfgs_short_history_max_iter", 0.5}, {"lbfgs_tolerance_grad", 1},
                                             {"lbfgs_max_eval_tolerance_change", 0.3}};
  for (const auto& [name, options] : cases) {
    LbfgsProblem problem;
    LBFGS opt({problem.a, problem.b}, lrs.at(name), options);
    expect_relative(run_lbfgs(problem, opt, 3), torch_reference(name), name);
  }
}

// The search's memory lives in the parameters' state: copying it to a fresh optimizer (as a
// checkpoint does) continues exactly as the uninterrupted run.
TEST(LBFGS, ResumesFromItsState) {
  const LBFGSOptions options{.max_iter = 5, .history_size = 4, .line_search_fn = "strong_wolfe"};
  LbfgsProblem straight;
  LBFGS a({straight.a, straight.b}, 1, options);
  const std::vector<double> want = run_lbfgs(straight, a, 3);

  LbfgsProblem first;
  LBFGS b({first.a, first.b}, 1, options);
  std::vector<double> got = run_lbfgs(first, b, 1);
  LbfgsProblem second;
  {
    NoGradGuard no_grad;
    second.a.copy_(first.a);
    second.b.copy_(first.b);
  }
  LBFGS c({second.a, second.b}, 1, options);
  c.state() = b.state();
  const std::vector<double> rest = run_lbfgs(second, c, 2);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.state()[1].buffers.at("d").dtype(), kFloat64);
  EXPECT_EQ(c.state()[1].buffers.at("d").shape(), (Shape{2, 1}));
}

TEST(LBFGS, RefusesMisuse) {
  LbfgsProblem problem;
  LBFGS opt({problem.a, problem.b});
  Optimizer& base = opt;
  problem.loss().backward();
  EXPECT_THROW(base.step(), Error);  // needs the closure
  EXPECT_THROW(opt.step([] { return tensor({1.0, 2.0}, kFloat64); }), Error);  // not one element
  EXPECT_THROW(opt.step(nullptr), Error);
  EXPECT_THROW(LBFGS({problem.a}, 1, {.max_iter = 0}), Error);
  EXPECT_THROW(LBFGS({problem.a}, 1, {.line_search_fn = "backtracking"}), Error);
  // A damaged state is named, not used.
  LBFGS fresh({problem.a, problem.b}, 0.1, {.max_iter = 3});
  auto closure = [&] {
    fresh.zero_grad();
    Tensor l = problem.loss();
    l.backward();
    return l;
  };
  fresh.step(closure);
  ASSERT_EQ(fresh.state()[0].buffers.at("history").item(), 1.0);
  fresh.state()[1].buffers.erase("old_dirs.0");
  try {
    fresh.step(closure);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LBFGS: the state of parameter 1 has no 'old_dirs.0'"), std::string::npos)
        << e.what();
  }
}

// An optimizer built before a dtype conversion keeps working (the parameters are the same
// objects); state made at the old dtype is refused with the reason, not read as garbage.
TEST(Optimizers, ParametersConvertedAfterConstruction) {
  Tensor p = tensor({1.0f, 2.0f}).set_requires_grad();
  SGD sgd({p}, 0.5);
  Adam adam({p}, 0.1);
  p.set_data(p.to(kFloat64));
  p.set_grad(tensor({1.0, 1.0}, kFloat64));
  sgd.step();
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{0.5, 1.5}));
  adam.step();  // first step: state made at float64
  Tensor q = tensor({1.0f}).set_requires_grad();
  Adam stepped({q}, 0.1);
  q.set_grad(tensor({1.0f}));
  stepped.step();
  q.set_data(q.to(kFloat64));
  q.set_grad(tensor({1.0}, kFloat64));
  try {
    stepped.step();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is float32 [1] but its parameter is float64 [1]"), std::string::npos) << e.what();
  }
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

TEST(Optimizers, AddParamGroupStepsTheNewGroupWithFreshState) {
  Tensor a = tensor({1.0}, kFloat64).set_requires_grad(), b = tensor({1.0}, kFloat64).set_requires_grad();
  SGD opt({ParamGroup{{a}, 0.1}}, {.momentum = 0.9});
  sum(a * 2.0).backward();
  opt.step();  // a: one momentum step
  opt.add_param_group({{b}, 0.01});
  ASSERT_EQ(opt.param_groups().size(), 2u);
  ASSERT_EQ(opt.state().size(), 2u);
  opt.zero_grad();
  sum(a * 2.0 + b * 2.0).backward();
  opt.step();
  EXPECT_DOUBLE_EQ(b.item(), 1.0 - 0.01 * 2.0);               // the new group's lr, a fresh momentum
  EXPECT_DOUBLE_EQ(a.item(), 1.0 - 0.1 * 2.0 - 0.1 * (0.9 * 2.0 + 2.0));  // its momentum kept
  EXPECT_EQ(opt.state()[1].step, 1);
  try {
    opt.add_param_group({{a}, 0.5});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SGD: parameter 0 of group 2 is also parameter 0 of group 0"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(opt.param_groups().size(), 2u);  // a refused group is not added
  EXPECT_THROW(opt.add_param_group({{tensor({1.0}, kFloat64)}, 0.1}), Error);  // does not require grad
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
