// tapegrad/optim/lr_scheduler.cc: the schedules' closed forms.
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>

namespace tg::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (ParamGroup& g : optimizer_.param_groups()) {
    if (g.initial_lr < 0) g.initial_lr = g.lr;
  }
}

void LRScheduler::apply() {
  for (ParamGroup& g : optimizer_.param_groups()) g.lr = lr_at(g.initial_lr, step_);
}

void LRScheduler::step() {
  ++step_;
  apply();
}

void LRScheduler::set_step(int64_t n) {
  TG_CHECK(n >= 0, "LRScheduler::set_step: step must be >= 0, got ", n);
  step_ = n;
  apply();
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> out;
  for (const ParamGroup& g : optimizer_.param_groups()) out.push_back(g.lr);
  return out;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  TG_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initialize();
}
double StepLR::lr_at(double base, int64_t step) const {
  return base * std::pow(gamma_, static_cast<double>(step / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  for (size_t i = 0; i < milestones_.size(); ++i) {
    TG_CHECK(milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
             "MultiStepLR: milestones must be positive and increasing, got ", milestones_[i], " at ", i);
  }
  initialize();
}
double MultiStepLR::lr_at(double base, int64_t step) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  return base * std::pow(gamma_, static_cast<double>(passed));
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda)
    : LRScheduler(optimizer), lambda_(std::move(lr_lambda)) {
  TG_CHECK(lambda_ != nullptr, "LambdaLR: lr_lambda is empty");
  initialize();
}
double LambdaLR::lr_at(double base, int64_t step) const { return base * lambda_(step); }

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  initialize();
}
double ExponentialLR::lr_at(double base, int64_t step) const { return base * std::pow(gamma_, static_cast<double>(step)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  TG_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be positive, got ", t_max);
  initialize();
}
double CosineAnnealingLR::lr_at(double base, int64_t step) const {
  return eta_min_ + (base - eta_min_) * (1 + std::cos(M_PI * static_cast<double>(step) / t_max_)) / 2;
}

LinearWarmupLR::LinearWarmupLR(Optimizer& optimizer, int64_t total_steps, double start_factor, double end_factor)
    : LRScheduler(optimizer), total_(total_steps), start_(start_factor), end_(end_factor) {
  TG_CHECK(total_steps > 0, "LinearWarmupLR: total_steps must be positive, got ", total_steps);
  TG_CHECK(start_factor > 0 && start_factor <= 1 && end_factor >= 0 && end_factor <= 1,
           "LinearWarmupLR: factors must be in (0, 1], got start ", start_factor, " end ", end_factor);
  initialize();
}
double LinearWarmupLR::lr_at(double base, int64_t step) const {
  const double t = static_cast<double>(std::min(step, total_)) / total_;
  return base * (start_ + (end_ - start_) * t);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div_factor)
    : LRScheduler(optimizer),
      max_lr_(max_lr),
      initial_lr_(max_lr / div_factor),
      min_lr_(max_lr / div_factor / final_div_factor),
      total_(total_steps),
      phase1_end_(pct_start * total_steps - 1) {
  TG_CHECK(total_steps > 1, "OneCycleLR: total_steps must be > 1, got ", total_steps);
  TG_CHECK(pct_start > 0 && pct_start < 1, "OneCycleLR: pct_start must be in (0, 1), got ", pct_start);
  TG_CHECK(phase1_end_ > 0, "OneCycleLR: pct_start * total_steps must exceed 1");
  initialize();
}
double OneCycleLR::lr_at(double, int64_t step) const {
  // As torch: step() may be called total_steps times (one per batch after the constructor's
  // step 0); one more is an error.
  TG_CHECK(step <= total_, "OneCycleLR: tried to step ", step, " times; total_steps is ", total_);
  auto cos_anneal = [](double start, double end, double pct) { return end + (start - end) / 2 * (std::cos(M_PI * pct) + 1); };
  const double t = static_cast<double>(step);
  if (t <= phase1_end_) return cos_anneal(initial_lr_, max_lr_, t / phase1_end_);
  return cos_anneal(max_lr_, min_lr_, (t - phase1_end_) / (total_ - 1 - phase1_end_));
}

}  // namespace tg::optim
