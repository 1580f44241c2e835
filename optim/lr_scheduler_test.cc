// tapegrad/optim/lr_scheduler_test.cc: every scheduler against learning rates produced by
// Debian's PyTorch (tests/reference/optim_reference.py, optimizers_reference.py,
// schedulers_reference.py): alone, two on one optimizer, ChainedScheduler, SequentialLR,
// ReduceLROnPlateau; resuming from state_dict(); bad arguments and bad saved state.
#include <cmath>
#include <limits>
#include <memory>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "optim/optim.h"
#include "optim/optim_test_util.h"

namespace tg::optim {
namespace {

#include "tests/reference/optim_reference.inc"
#include "tests/reference/optimizers_reference.inc"
#include "tests/reference/schedulers_reference.inc"

const std::vector<double>& reference(const std::string& name) { return reference_entry(kOptimReference, name); }
const std::vector<double>& torch_reference(const std::string& name) { return reference_entry(kOptimizersReference, name); }
const std::vector<double>& schedulers_reference(const std::string& name) {
  return reference_entry(kSchedulersReference, name);
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

// An SGD with `groups` groups of lr 0.1, 0.2, ... (the reference script's optimizer).
std::unique_ptr<SGD> optimizer(int groups = 1) {
  std::vector<ParamGroup> g;
  for (int i = 0; i < groups; ++i) g.push_back({{tensor({0.0}, kFloat64).set_requires_grad()}, 0.1 * (i + 1)});
  return std::make_unique<SGD>(std::move(g));
}

// Every group's lr before each of `steps` calls of step(i), and once after the last.
template <typename Step>
std::vector<double> run(Optimizer& opt, Step step, int steps) {
  std::vector<double> lrs;
  auto record = [&] {
    for (const ParamGroup& g : opt.param_groups()) lrs.push_back(g.lr);
  };
  for (int i = 0; i < steps; ++i) {
    record();
    step(i);
  }
  record();
  return lrs;
}

TEST(Schedulers, TwoOnOneOptimizerCompose) {
  auto opt = optimizer();
  ExponentialLR a(*opt, 0.9);
  StepLR b(*opt, 2, 0.5);
  expect_relative(run(*opt, [&](int) { a.step(), b.step(); }, 10),
                  schedulers_reference("two_schedulers_one_optimizer"), "ExponentialLR + StepLR");
  EXPECT_DOUBLE_EQ(b.get_last_lr()[0], opt->param_groups()[0].lr);
}

TEST(Schedulers, ChainedSchedulerMatchesPyTorch) {
  auto opt = optimizer(2);
  ChainedScheduler s({std::make_shared<LinearLR>(*opt, 4, 0.25), std::make_shared<ExponentialLR>(*opt, 0.9),
                      std::make_shared<MultiStepLR>(*opt, std::vector<int64_t>{3, 7}, 0.5)});
  expect_relative(run(*opt, [&](int) { s.step(); }, 10), schedulers_reference("chained_scheduler"), "ChainedScheduler");
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{opt->param_groups()[0].lr, opt->param_groups()[1].lr}));
}

TEST(Schedulers, SequentialLRMatchesPyTorch) {
  {
    auto opt = optimizer();
    SequentialLR s(*opt, {std::make_shared<LinearLR>(*opt, 3, 0.1), std::make_shared<CosineAnnealingLR>(*opt, 4, 0.001)},
                   {3});
    expect_relative(run(*opt, [&](int) { s.step(); }, 14), schedulers_reference("sequential_warmup_cosine"),
                    "SequentialLR(LinearLR, CosineAnnealingLR)");
  }
  auto opt = optimizer(2);
  SequentialLR s(*opt,
                 {std::make_shared<StepLR>(*opt, 2, 0.5), std::make_shared<ExponentialLR>(*opt, 0.8),
                  std::make_shared<MultiStepLR>(*opt, std::vector<int64_t>{1, 3}, 0.1)},
                 {3, 5});
  expect_relative(run(*opt, [&](int) { s.step(); }, 9), schedulers_reference("sequential_three"),
                  "SequentialLR(StepLR, ExponentialLR, MultiStepLR)");
}

TEST(Schedulers, CosineFollowsPyTorchPastItsTrough) {
  auto opt = optimizer();
  CosineAnnealingLR s(*opt, 3, 0.01);
  expect_relative(run(*opt, [&](int) { s.step(); }, 10), schedulers_reference("cosine_past_trough"), "cosine");
}

TEST(Schedulers, ReduceLROnPlateauMatchesPyTorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> metrics = {1.0, 0.9, 0.9, 0.95, 0.91, nan, 0.85, 0.86, 0.86, 0.86, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8};
  {
    auto opt = optimizer();
    ReduceLROnPlateau s(*opt, {.patience = 2});
    expect_relative(run(*opt, [&](int i) { s.step(metrics[i]); }, 16), schedulers_reference("plateau_defaults_patience2"),
                    "plateau defaults");
  }
  {
    auto opt = optimizer(2);
    ReduceLROnPlateau s(*opt, {.factor = 0.5, .patience = 1, .cooldown = 2, .min_lr = {0.02, 0.05}});
    expect_relative(run(*opt, [&](int i) { s.step(metrics[i]); }, 16), schedulers_reference("plateau_cooldown_min_lr"),
                    "plateau cooldown, min_lr per group");
  }
  using Options = ReduceLROnPlateauOptions;
  const std::vector<double> accuracy = {0.5, 0.6, 0.62, 0.64, 0.7, 0.7, 0.71, 0.72, 0.8, 0.8};
  auto opt = optimizer();
  ReduceLROnPlateau s(*opt, {.mode = Options::Mode::kMax, .factor = 0.3, .patience = 1, .threshold = 0.05,
                             .threshold_mode = Options::ThresholdMode::kAbs});
  expect_relative(run(*opt, [&](int i) { s.step(accuracy[i]); }, 10), schedulers_reference("plateau_max_abs"),
                  "plateau max mode, abs threshold");
  EXPECT_DOUBLE_EQ(s.best(), 0.8);
}

// Saving state_dict() (and the optimizer's lrs, as a checkpoint does) midway and loading it
// into fresh schedulers continues exactly as the uninterrupted run.
TEST(Schedulers, ResumeFromStateDictContinuesTheSchedule) {
  auto make = [](Optimizer& o) {
    return std::make_unique<SequentialLR>(
        o, std::vector<std::shared_ptr<LRScheduler>>{std::make_shared<LinearLR>(o, 3, 0.1),
                                                     std::make_shared<CosineAnnealingLR>(o, 4, 0.001)},
        std::vector<int64_t>{3});
  };
  auto whole = optimizer();
  auto s = make(*whole);
  const std::vector<double> want = run(*whole, [&](int) { s->step(); }, 12);

  auto first = optimizer();
  auto s1 = make(*first);
  std::vector<double> got = run(*first, [&](int) { s1->step(); }, 5);
  got.pop_back();  // the resumed run records the lr at step 5 again
  const std::map<std::string, double> saved = s1->state_dict();
  EXPECT_EQ(saved.at("step"), 5);
  EXPECT_EQ(saved.at("1.step"), 2);
  auto second = optimizer();
  auto s2 = make(*second);
  second->param_groups()[0].lr = first->param_groups()[0].lr;  // restored by the checkpoint
  s2->load_state_dict(saved);
  const std::vector<double> rest = run(*second, [&](int) { s2->step(); }, 7);
  got.insert(got.end(), rest.begin(), rest.end());
  expect_relative(got, want, "resumed SequentialLR");

  // ReduceLROnPlateau keeps its best value and counters.
  auto p = optimizer();
  ReduceLROnPlateau plateau(*p, {.patience = 1});
  plateau.step(1.0);
  plateau.step(2.0);
  auto q = optimizer();
  ReduceLROnPlateau resumed(*q, {.patience = 1});
  resumed.load_state_dict(plateau.state_dict());
  EXPECT_EQ(resumed.best(), 1.0);
  EXPECT_EQ(resumed.num_bad_epochs(), 1);
  resumed.step(3.0);  // the second bad step in a row: reduces
  EXPECT_DOUBLE_EQ(q->param_groups()[0].lr, 0.01);
}

TEST(Schedulers, BadSavedStateIsRefusedWithoutChangingAnything) {
  auto opt = optimizer();
  StepLR s(*opt, 2, 0.5);
  s.step();
  const auto expect_refused = [&](std::map<std::string, double> state, const std::string& what) {
    try {
      s.load_state_dict(state);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.last_step(), 1);
  };
  std::map<std::string, double> good = s.state_dict();
  auto without = good;
  without.erase("step");
  expect_refused(without, "StepLR: the saved scheduler state has no 'step'");
  auto extra = good;
  extra["best"] = 1;
  expect_refused(extra, "unknown entry 'best'");
  auto negative = good;
  negative["step"] = -3;
  expect_refused(negative, "non-negative integer, got -3");
  auto fractional = good;
  fractional["step"] = 2.5;
  expect_refused(fractional, "non-negative integer, got 2.5");
  auto infinite = good;
  infinite["last_lr.0"] = std::numeric_limits<double>::infinity();
  expect_refused(infinite, "'last_lr.0' is inf");

  // A combinator checks every part before loading any.
  auto o = optimizer();
  auto a = std::make_shared<StepLR>(*o, 2, 0.5);
  auto b = std::make_shared<ExponentialLR>(*o, 0.9);
  SequentialLR seq(*o, {a, b}, {2});
  seq.step();
  auto state = seq.state_dict();
  state["0.step"] = 7;
  state["1.step"] = -1;
  EXPECT_THROW(seq.load_state_dict(state), Error);
  EXPECT_EQ(a->last_step(), 1);
}

TEST(Schedulers, RejectBadArguments) {
  auto opt = optimizer(2), other = optimizer();
  auto step = std::make_shared<StepLR>(*opt, 2);
  EXPECT_THROW(SequentialLR(*opt, {step}, {3}), Error);                                    // milestones count
  EXPECT_THROW(SequentialLR(*opt, {step, std::make_shared<StepLR>(*opt, 3)}, {0}), Error);  // milestone 0
  EXPECT_THROW(SequentialLR(*opt, {step, std::make_shared<StepLR>(*other, 3)}, {2}), Error);  // two optimizers
  EXPECT_THROW(SequentialLR(*opt, {step, nullptr}, {2}), Error);
  EXPECT_THROW(ChainedScheduler({}), Error);
  EXPECT_THROW(ReduceLROnPlateau(*opt, {.factor = 1.0}), Error);
  EXPECT_THROW(ReduceLROnPlateau(*opt, {.min_lr = {0.1, 0.2, 0.3}}), Error);  // 2 groups
  ReduceLROnPlateau plateau(*opt);
  EXPECT_THROW(plateau.step(), Error);  // needs the metric
  // A ChainedScheduler or ReduceLROnPlateau cannot be a later stage of SequentialLR (as PyTorch).
  auto chained = std::make_shared<ChainedScheduler>(std::vector<std::shared_ptr<LRScheduler>>{step});
  SequentialLR seq(*opt, {step, chained}, {1});
  EXPECT_THROW(seq.step(), Error);
}

}  // namespace
}  // namespace tg::optim
