// tapegrad/optim/reduce_lr_on_plateau.h: ReduceLROnPlateau (PyTorch 1.13's rules): multiplies
// every group's lr by `factor` when a metric has not improved for more than `patience` steps.
//   tg::optim::ReduceLROnPlateau sched(opt, {.factor = 0.5, .patience = 2});
//   ... each epoch: sched.step(validation_loss);
#pragma once

#include <vector>

#include "optim/lr_scheduler.h"

namespace tg::optim {

struct ReduceLROnPlateauOptions {
  enum class Mode { kMin, kMax };           // whether the metric should fall (a loss) or rise (an accuracy)
  enum class ThresholdMode { kRel, kAbs };  // improvement relative to the best, or absolute
  Mode mode = Mode::kMin;
  double factor = 0.1;  // in [0, 1)
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::kRel;
  int64_t cooldown = 0;  // steps after a reduction during which bad steps are not counted
  // The lowest lr: one for every group, or one per group.
  std::vector<double> min_lr = {0.0};
  double eps = 1e-8;  // a reduction smaller than this is skipped
};

class ReduceLROnPlateau : public LRScheduler {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  // One step with this step's metric (NaN counts as no improvement, as in PyTorch).
  void step(double metric);
  // Refused: the schedule needs the metric.
  void step() override;
  // Refused: the schedule cannot start over at a milestone of SequentialLR (as in PyTorch).
  void restart() override;
  std::map<std::string, double> state_dict() const override;  // + best, num_bad_epochs, cooldown_counter

  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }

 protected:
  void check_state(const std::map<std::string, double>& state) const override;
  void restore_state(const std::map<std::string, double>& state) override;

 private:
  bool is_better(double metric) const;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;  // one per group
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace tg::optim
