// tapegrad/optim/lr_scheduler.cc: the schedules' closed forms.
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tg::optim {

LRScheduler::LRScheduler(Optimizer& optimizer, const char* name) : name_(name), optimizer_(optimizer) {
  for (ParamGroup& g : optimizer_.param_groups()) {
    if (g.initial_lr < 0) g.initial_lr = g.lr;
  }
  record_last_lr();
}

void LRScheduler::record_last_lr() {
  last_lr_.clear();
  for (const ParamGroup& g : optimizer_.param_groups()) last_lr_.push_back(g.lr);
}

std::map<std::string, double> LRScheduler::state_dict() const {
  std::map<std::string, double> state{{"step", static_cast<double>(step_)}};
  for (size_t i = 0; i < last_lr_.size(); ++i) state[absl::StrCat("last_lr.", i)] = last_lr_[i];
  return state;
}

void LRScheduler::check_state_dict(const std::map<std::string, double>& state) const {
  const std::map<std::string, double> mine = state_dict();
  for (const auto& [key, value] : mine) {
    TG_CHECK(state.count(key) > 0, name_, ": the saved scheduler state has no '", key, "' (saved by another kind ",
             "of scheduler, or for another number of parameter groups?)");
  }
  for (const auto& [key, value] : state) {
    TG_CHECK(mine.count(key) > 0, name_, ": the saved scheduler state has an unknown entry '", key,
             "' (saved by another kind of scheduler, or for another number of parameter groups?)");
    TG_CHECK(!std::isnan(value) && (std::isfinite(value) || key == "best"), name_, ": the saved scheduler state's '",
             key, "' is ", value);
  }
  const double step = state.at("step");
  TG_CHECK(step >= 0 && step == std::floor(step) && step < 9.0e15, name_, ": the saved step must be a ",
           "non-negative integer, got ", step);
  check_state(state);
}

void LRScheduler::load_state_dict(const std::map<std::string, double>& state) {
  check_state_dict(state);
  step_ = static_cast<int64_t>(state.at("step"));
  for (size_t i = 0; i < last_lr_.size(); ++i) last_lr_[i] = state.at(absl::StrCat("last_lr.", i));
  restore_state(state);
}

void LRScheduler::set_step(int64_t n) {
  TG_CHECK(n >= 0, name_, ": step must be >= 0, got ", n);
  step_ = n;
}

GroupLRScheduler::GroupLRScheduler(Optimizer& optimizer, const char* name) : LRScheduler(optimizer, name) {}

void GroupLRScheduler::initialize() { apply_chained(); }

void GroupLRScheduler::apply_chained() {
  for (ParamGroup& g : optimizer().param_groups()) g.lr = chained_lr(g.lr, g.initial_lr, step_);
  record_last_lr();
}

void GroupLRScheduler::step() {
  ++step_;
  apply_chained();
}

void GroupLRScheduler::restart() {
  step_ = 0;
  for (ParamGroup& g : optimizer().param_groups()) g.lr = lr_at(g.initial_lr, 0);
  record_last_lr();
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : GroupLRScheduler(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
  TG_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initialize();
}
double StepLR::lr_at(double base, int64_t step) const {
  return base * std::pow(gamma_, static_cast<double>(step / step_size_));
}

double StepLR::chained_lr(double current, double, int64_t step) const {
  return step > 0 && step % step_size_ == 0 ? current * gamma_ : current;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : GroupLRScheduler(optimizer, "MultiStepLR"), milestones_(std::move(milestones)), gamma_(gamma) {
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

double MultiStepLR::chained_lr(double current, double, int64_t step) const {
  const auto [first, last] = std::equal_range(milestones_.begin(), milestones_.end(), step);
  return current * std::pow(gamma_, static_cast<double>(last - first));
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda)
    : GroupLRScheduler(optimizer, "LambdaLR"), lambda_(std::move(lr_lambda)) {
  TG_CHECK(lambda_ != nullptr, "LambdaLR: lr_lambda is empty");
  initialize();
}
double LambdaLR::lr_at(double base, int64_t step) const { return base * lambda_(step); }

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : GroupLRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
  initialize();
}
double ExponentialLR::lr_at(double base, int64_t step) const { return base * std::pow(gamma_, static_cast<double>(step)); }

double ExponentialLR::chained_lr(double current, double, int64_t step) const {
  return step > 0 ? current * gamma_ : current;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : GroupLRScheduler(optimizer, "CosineAnnealingLR"), t_max_(t_max), eta_min_(eta_min) {
  TG_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be positive, got ", t_max);
  initialize();
}
double CosineAnnealingLR::lr_at(double base, int64_t step) const {
  return eta_min_ + (base - eta_min_) * (1 + std::cos(M_PI * static_cast<double>(step) / t_max_)) / 2;
}

// PyTorch's recursive form: the ratio of consecutive closed-form values applied to the current lr,
// except one step past each trough (where that ratio is 0/0).
double CosineAnnealingLR::chained_lr(double current, double base, int64_t step) const {
  if (step == 0) return current;
  if ((step - 1 - t_max_) % (2 * t_max_) == 0) return current + (base - eta_min_) * (1 - std::cos(M_PI / t_max_)) / 2;
  const double e = static_cast<double>(step);
  return (1 + std::cos(M_PI * e / t_max_)) / (1 + std::cos(M_PI * (e - 1) / t_max_)) * (current - eta_min_) + eta_min_;
}

LinearWarmupLR::LinearWarmupLR(Optimizer& optimizer, int64_t total_steps, double start_factor, double end_factor)
    : GroupLRScheduler(optimizer, "LinearWarmupLR"), total_(total_steps), start_(start_factor), end_(end_factor) {
  TG_CHECK(total_steps > 0, "LinearWarmupLR: total_steps must be positive, got ", total_steps);
  TG_CHECK(start_factor > 0 && start_factor <= 1 && end_factor >= 0 && end_factor <= 1,
           "LinearWarmupLR: factors must be in (0, 1], got start ", start_factor, " end ", end_factor);
  initialize();
}
double LinearWarmupLR::lr_at(double base, int64_t step) const {
  const double t = static_cast<double>(std::min(step, total_)) / total_;
  return base * (start_ + (end_ - start_) * t);
}

double LinearWarmupLR::chained_lr(double current, double, int64_t step) const {
  if (step == 0) return current * start_;
  if (step > total_) return current;
  return current * (1 + (end_ - start_) / (total_ * start_ + static_cast<double>(step - 1) * (end_ - start_)));
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div_factor)
    : GroupLRScheduler(optimizer, "OneCycleLR"),
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
