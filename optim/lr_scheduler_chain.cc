// tapegrad/optim/lr_scheduler_chain.cc: SequentialLR and ChainedScheduler (PyTorch 1.13's rules).
#include "optim/lr_scheduler_chain.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tg::optim {

namespace {

Optimizer& optimizer_of(const std::vector<std::shared_ptr<LRScheduler>>& schedulers, const char* name) {
  TG_CHECK(!schedulers.empty() && schedulers[0] != nullptr, name, ": needs at least one scheduler");
  return schedulers[0]->optimizer();
}

// The entries of `state` under "<index>.", without the prefix.
std::map<std::string, double> part_state(const std::map<std::string, double>& state, size_t index) {
  const std::string prefix = absl::StrCat(index, ".");
  std::map<std::string, double> out;
  for (const auto& [key, value] : state) {
    if (absl::StartsWith(key, prefix)) out[key.substr(prefix.size())] = value;
  }
  return out;
}

}  // namespace

SchedulerList::SchedulerList(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                             const char* name)
    : LRScheduler(optimizer, name), schedulers_(std::move(schedulers)) {
  TG_CHECK(!schedulers_.empty(), name, ": needs at least one scheduler");
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    TG_CHECK(schedulers_[i] != nullptr, name, ": scheduler ", i, " is null");
    TG_CHECK(&schedulers_[i]->optimizer() == &optimizer, name, ": scheduler ", i,
             " drives another optimizer; all must drive the same one");
  }
}

std::map<std::string, double> SchedulerList::state_dict() const {
  std::map<std::string, double> state = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    for (const auto& [key, value] : schedulers_[i]->state_dict()) state[absl::StrCat(i, ".", key)] = value;
  }
  return state;
}

void SchedulerList::check_state(const std::map<std::string, double>& state) const {
  for (size_t i = 0; i < schedulers_.size(); ++i) schedulers_[i]->check_state_dict(part_state(state, i));
}

void SchedulerList::restore_state(const std::map<std::string, double>& state) {
  for (size_t i = 0; i < schedulers_.size(); ++i) schedulers_[i]->load_state_dict(part_state(state, i));
}

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : SchedulerList(optimizer, std::move(schedulers), "SequentialLR"), milestones_(std::move(milestones)) {
  TG_CHECK(milestones_.size() + 1 == schedulers_.size(), "SequentialLR: expects one milestone fewer than schedulers, ",
           "got ", schedulers_.size(), " schedulers and ", milestones_.size(), " milestones");
  for (size_t i = 0; i < milestones_.size(); ++i) {
    TG_CHECK(milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
             "SequentialLR: milestones must be positive and increasing, got ", milestones_[i], " at ", i);
  }
  restart();
}

void SequentialLR::restart() {
  for (ParamGroup& g : optimizer().param_groups()) g.lr = g.initial_lr;
  step_ = 0;
  schedulers_[0]->restart();
  record_last_lr();
}

void SequentialLR::step() {
  ++step_;
  const size_t index = std::upper_bound(milestones_.begin(), milestones_.end(), step_) - milestones_.begin();
  if (index > 0 && milestones_[index - 1] == step_) {
    schedulers_[index]->restart();
  } else {
    schedulers_[index]->step();
  }
  record_last_lr();
}

ChainedScheduler::ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers)
    : SchedulerList(optimizer_of(schedulers, "ChainedScheduler"), schedulers, "ChainedScheduler") {}

void ChainedScheduler::step() {
  ++step_;
  for (const auto& s : schedulers_) s->step();
  record_last_lr();
}

void ChainedScheduler::restart() {
  throw Error("ChainedScheduler: cannot start over (it cannot be a later stage of SequentialLR, as in PyTorch)");
}

}  // namespace tg::optim
