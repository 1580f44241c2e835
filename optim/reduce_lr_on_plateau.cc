// tapegrad/optim/reduce_lr_on_plateau.cc: ReduceLROnPlateau, step by step as PyTorch 1.13's.
#include "optim/reduce_lr_on_plateau.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : LRScheduler(optimizer, "ReduceLROnPlateau"), options_(std::move(options)) {
  const size_t groups = optimizer.param_groups().size();
  TG_CHECK(options_.factor >= 0 && options_.factor < 1, "ReduceLROnPlateau: factor must be in [0, 1), got ",
           options_.factor);
  TG_CHECK(options_.patience >= 0 && options_.cooldown >= 0, "ReduceLROnPlateau: patience and cooldown must be ",
           ">= 0, got ", options_.patience, " and ", options_.cooldown);
  TG_CHECK(options_.threshold >= 0 && options_.eps >= 0, "ReduceLROnPlateau: threshold and eps must be >= 0, got ",
           options_.threshold, " and ", options_.eps);
  TG_CHECK(options_.min_lr.size() == 1 || options_.min_lr.size() == groups, "ReduceLROnPlateau: expected 1 or ",
           groups, " min_lr values (one per parameter group), got ", options_.min_lr.size());
  min_lrs_ = options_.min_lr.size() == 1 ? std::vector<double>(groups, options_.min_lr[0]) : options_.min_lr;
  best_ = options_.mode == ReduceLROnPlateauOptions::Mode::kMin ? std::numeric_limits<double>::infinity()
                                                                : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::is_better(double metric) const {
  using Mode = ReduceLROnPlateauOptions::Mode;
  using ThresholdMode = ReduceLROnPlateauOptions::ThresholdMode;
  const bool rel = options_.threshold_mode == ThresholdMode::kRel;
  if (options_.mode == Mode::kMin) return rel ? metric < best_ * (1 - options_.threshold) : metric < best_ - options_.threshold;
  return rel ? metric > best_ * (1 + options_.threshold) : metric > best_ + options_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  ++step_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad steps in cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    std::vector<ParamGroup>& groups = optimizer().param_groups();
    for (size_t i = 0; i < groups.size(); ++i) {
      const double reduced = std::max(groups[i].lr * options_.factor, min_lrs_[i]);
      if (groups[i].lr - reduced > options_.eps) groups[i].lr = reduced;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  record_last_lr();
}

void ReduceLROnPlateau::step() {
  throw Error("ReduceLROnPlateau: step() needs the metric to watch: call step(metric)");
}

void ReduceLROnPlateau::restart() {
  throw Error("ReduceLROnPlateau: cannot start over (it cannot be a later stage of SequentialLR, as in PyTorch)");
}

std::map<std::string, double> ReduceLROnPlateau::state_dict() const {
  std::map<std::string, double> state = LRScheduler::state_dict();
  state["best"] = best_;
  state["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
  state["cooldown_counter"] = static_cast<double>(cooldown_counter_);
  return state;
}

void ReduceLROnPlateau::check_state(const std::map<std::string, double>& state) const {
  for (const char* key : {"num_bad_epochs", "cooldown_counter"}) {
    const double v = state.at(key);
    TG_CHECK(v >= 0 && v == std::floor(v) && v < 9.0e15, "ReduceLROnPlateau: the saved '", key,
             "' must be a non-negative integer, got ", v);
  }
}

void ReduceLROnPlateau::restore_state(const std::map<std::string, double>& state) {
  best_ = state.at("best");
  num_bad_epochs_ = static_cast<int64_t>(state.at("num_bad_epochs"));
  cooldown_counter_ = static_cast<int64_t>(state.at("cooldown_counter"));
}

}  // namespace tg::optim
