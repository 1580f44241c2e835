// tapegrad/optim/optimizer.h: the Optimizer base: parameter groups (each with its own lr and
// weight decay) and per-parameter state (step count plus named moment buffers, so checkpoints
// can save it generically).
//   tg::optim::SGD opt({{model->parameters(), /*lr=*/0.1}}, {.momentum = 0.9});
//   opt.zero_grad(); loss.backward(); opt.step();
#pragma once

#include <map>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace tg::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
  double weight_decay = 0.0;
  double initial_lr = -1;  // set by LR schedulers to the lr they started from
};

struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;  // e.g. "exp_avg", "momentum_buffer"

  // The buffer `name`, created as zeros shaped like `param` on first use.
  Tensor& buffer(const std::string& name, const Tensor& param);
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups, const char* name);
  virtual ~Optimizer() = default;
  // Adds a group (LibTorch's add_param_group), e.g. a backbone unfrozen for fine-tuning after its
  // head trained alone; its parameters start with fresh state. Checked as the constructor's groups.
  void add_param_group(ParamGroup group);
  // Sets every parameter's .grad() to undefined.
  void zero_grad();
  // One update of every parameter that has a gradient. Runs without recording.
  void step();

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // State of the i-th parameter counting through the groups in order.
  std::vector<ParamState>& state() { return state_; }
  const char* name() const { return name_; }

 protected:
  // Updates one parameter p (contiguous data) from grad with its state.
  virtual void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) = 0;

 private:
  std::vector<ParamGroup> groups_;
  std::vector<ParamState> state_;
  const char* name_;
};

// Clamps every gradient element to [-clip_value, clip_value], in place.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

// Scales all gradients so their joint norm is at most max_norm; returns the norm before clipping.
// norm_type may be any p >= 1 or infinity.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace tg::optim
