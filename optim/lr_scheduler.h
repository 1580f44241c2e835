// tapegrad/optim/lr_scheduler.h: learning-rate schedules (closed forms of PyTorch's schedulers).
// Construction sets each group's lr to the schedule's value at step 0; step() advances one step
// (call it once per epoch or once per batch, as the schedule is meant).
//   tg::optim::StepLR sched(opt, /*step_size=*/1, /*gamma=*/0.7);  ...  sched.step();
#pragma once

#include <functional>
#include <vector>

#include "optim/optimizer.h"

namespace tg::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  void step();
  int64_t last_step() const { return step_; }
  // Jumps to step n (resuming from a checkpoint).
  void set_step(int64_t n);
  std::vector<double> get_last_lr() const;

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // Call at the end of the derived constructor.
  void initialize() { apply(); }
  virtual double lr_at(double base_lr, int64_t step) const = 0;

 private:
  void apply();
  Optimizer& optimizer_;
  int64_t step_ = 0;
};

// lr = base * gamma^(step / step_size)  (integer division)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = base * gamma^(number of milestones <= step)  (milestones increasing)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr = base * lambda(step)
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  std::function<double(int64_t)> lambda_;
};

// lr = base * gamma^step
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  double gamma_;
};

// lr = eta_min + (base - eta_min) * (1 + cos(pi * step / t_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear warm-up (torch LinearLR): lr = base * (start + (end - start) * min(step, total) / total)
class LinearWarmupLR : public LRScheduler {
 public:
  LinearWarmupLR(Optimizer& optimizer, int64_t total_steps, double start_factor = 1.0 / 3, double end_factor = 1.0);

 protected:
  double lr_at(double base_lr, int64_t step) const override;

 private:
  int64_t total_;
  double start_, end_;
};

// One-cycle (torch OneCycleLR, cosine annealing, two phases): from max_lr / div_factor up to
// max_lr over pct_start of total_steps, then down to max_lr / div_factor / final_div_factor.
// Momentum is not cycled. As in PyTorch, step() may be called total_steps times (the schedule's
// last value is at total_steps - 1; the extra call, after a last batch, extrapolates); once more
// is an error.
class OneCycleLR : public LRScheduler {
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

}  // namespace tg::optim
