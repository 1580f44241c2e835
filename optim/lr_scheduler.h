// tapegrad/optim/lr_scheduler.h: the scheduler base and PyTorch's per-group learning-rate
// schedules, chainable as PyTorch's (SequentialLR and ChainedScheduler: lr_scheduler_chain.h;
// ReduceLROnPlateau: reduce_lr_on_plateau.h). Construction applies the schedule's step 0;
// step() advances one step.
//   tg::optim::StepLR sched(opt, /*step_size=*/1, /*gamma=*/0.7);  ...  sched.step();
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace tg::optim {

// What every scheduler offers. Schedules chain as PyTorch's do: each step() derives the next lr
// from the group's current lr, so two schedulers on one optimizer compose (ExponentialLR and
// StepLR multiply) instead of overwriting each other.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // One step (once per epoch or once per batch, as the schedule is meant).
  virtual void step() = 0;
  // Starts over at step 0 from each group's initial lr (SequentialLR at a milestone).
  virtual void restart() = 0;
  int64_t last_step() const { return step_; }
  // The lrs this scheduler set last (another scheduler may have changed them since).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  Optimizer& optimizer() const { return optimizer_; }

  // Everything a checkpoint must save to resume the schedule (the lr itself is the optimizer's):
  // "step", "last_lr.<group>" and the schedule's own counters. load_state_dict checks every
  // entry (the same keys as state_dict(), finite values) before changing anything and names
  // what is missing or wrong.
  virtual std::map<std::string, double> state_dict() const;
  void load_state_dict(const std::map<std::string, double>& state);
  // The checks of load_state_dict alone (a combinator checks its parts before loading any).
  void check_state_dict(const std::map<std::string, double>& state) const;
  // Resumes at step n: sets the counter only, as load_state_dict (the optimizer's checkpoint
  // holds the lr this scheduler and any other set).
  void set_step(int64_t n);

 protected:
  LRScheduler(Optimizer& optimizer, const char* name);
  void record_last_lr();  // last_lr_ = the groups' lrs now
  // A derived scheduler's part of load_state_dict: check_state throws on a bad value of its own
  // entries (the keys are already checked); restore_state then applies them.
  virtual void check_state(const std::map<std::string, double>&) const {}
  virtual void restore_state(const std::map<std::string, double>&) {}
  const char* name_;
  int64_t step_ = 0;

 private:
  Optimizer& optimizer_;
  std::vector<double> last_lr_;
};

// A schedule of each group's lr on its own (every scheduler but the combinators and
// ReduceLROnPlateau). Construction applies the value at step 0.
class GroupLRScheduler : public LRScheduler {
 public:
  void step() override;
  void restart() override;

 protected:
  GroupLRScheduler(Optimizer& optimizer, const char* name);
  // Call at the end of the derived constructor: applies step 0 to the groups' current lr.
  void initialize();
  // The closed form: the lr at `step` from the group's initial lr (restart and step 0 of a
  // schedule started at the initial lr).
  virtual double lr_at(double base_lr, int64_t step) const = 0;
  // PyTorch's get_lr: the lr at `step` from the group's current lr (step 0 too: the value a
  // schedule starts from). The closed form by default (schedules that set the lr outright:
  // LambdaLR, OneCycleLR).
  virtual double chained_lr(double current_lr, double base_lr, int64_t step) const { return lr_at(base_lr, step); }

 private:
  void apply_chained();
};

// lr = base * gamma^(step / step_size)  (integer division)
class StepLR : public GroupLRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t step) const override;
  double chained_lr(double current_lr, double base_lr, int64_t step) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = base * gamma^(number of milestones <= step)  (milestones increasing)
class MultiStepLR : public GroupLRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t step) const override;
  double chained_lr(double current_lr, double base_lr, int64_t step) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr = base * lambda(step)
class LambdaLR : public GroupLRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  std::function<double(int64_t)> lambda_;
};

// lr = base * gamma^step
class ExponentialLR : public GroupLRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  double lr_at(double base_lr, int64_t step) const override;
  double chained_lr(double current_lr, double base_lr, int64_t step) const override;

 private:
  double gamma_;
};

// lr = eta_min + (base - eta_min) * (1 + cos(pi * step / t_max)) / 2
class CosineAnnealingLR : public GroupLRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);

 protected:
  double lr_at(double base_lr, int64_t step) const override;
  double chained_lr(double current_lr, double base_lr, int64_t step) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear warm-up (torch LinearLR): lr = base * (start + (end - start) * min(step, total) / total)
class LinearWarmupLR : public GroupLRScheduler {
 public:
  LinearWarmupLR(Optimizer& optimizer, int64_t total_steps, double start_factor = 1.0 / 3, double end_factor = 1.0);

 protected:
  double lr_at(double base_lr, int64_t step) const override;
  double chained_lr(double current_lr, double base_lr, int64_t step) const override;

 private:
  int64_t total_;
  double start_, end_;
};

// One-cycle (torch OneCycleLR, cosine annealing, two phases): from max_lr / div_factor up to
// max_lr over pct_start of total_steps, then down to max_lr / div_factor / final_div_factor.
// Momentum is not cycled. As in PyTorch, step() may be called total_steps times (the schedule's
// last value is at total_steps - 1; the extra call, after a last batch, extrapolates); once more
// is an error.
class OneCycleLR : public GroupLRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start = 0.3,
             double div_factor = 25.0, double final_div_factor = 1e4);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  double max_lr_, initial_lr_, min_lr_;
  int64_t total_;
  double phase1_end_;
};

// PyTorch's name for LinearWarmupLR.
using LinearLR = LinearWarmupLR;

}  // namespace tg::optim
