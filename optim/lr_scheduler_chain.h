// tapegrad/optim/lr_scheduler_chain.h: schedulers made of schedulers, as PyTorch's.
//   SequentialLR: one scheduler after another, switching at milestones (warm-up, then cosine);
//     at each milestone the next one starts over from the groups' initial lr.
//   ChainedScheduler: steps several schedulers together; their effects compose.
//   auto warmup = std::make_shared<tg::optim::LinearLR>(opt, 5, 0.1);
//   auto cosine = std::make_shared<tg::optim::CosineAnnealingLR>(opt, 95);
//   tg::optim::SequentialLR sched(opt, {warmup, cosine}, {5});  ...  sched.step();
#pragma once

#include <memory>
#include <vector>

#include "optim/lr_scheduler.h"

namespace tg::optim {

// The parts' state is saved under "<index>.<key>" beside the combinator's own.
class SchedulerList : public LRScheduler {
 public:
  std::map<std::string, double> state_dict() const override;

 protected:
  // All parts must drive `optimizer`.
  SchedulerList(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers, const char* name);
  void check_state(const std::map<std::string, double>& state) const override;
  void restore_state(const std::map<std::string, double>& state) override;
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
};

class SequentialLR : public SchedulerList {
 public:
  // milestones: increasing positive steps, one fewer than schedulers. Sets every group's lr back
  // to its initial lr and starts the first scheduler.
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones);
  void step() override;
  void restart() override;

 private:
  std::vector<int64_t> milestones_;
};

class ChainedScheduler : public SchedulerList {
 public:
  explicit ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers);
  void step() override;
  // Refused: PyTorch's ChainedScheduler cannot start over either (it cannot follow a milestone of
  // SequentialLR).
  void restart() override;
};

}  // namespace tg::optim
