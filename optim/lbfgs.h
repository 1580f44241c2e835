// tapegrad/optim/lbfgs.h: L-BFGS (PyTorch's rules, after minFunc), with an optional strong-Wolfe
// line search. Each step() re-evaluates the model through a closure up to max_iter times:
//   tg::optim::LBFGS opt(model->parameters(), /*lr=*/0.8);
//   opt.step([&] { opt.zero_grad(); Tensor loss = criterion(model->forward(x), y); loss.backward(); return loss; });
// One parameter group only (as PyTorch). The search runs in float64 whatever the parameters'
// dtype; its history lives in the state of the parameters (float64 pieces of each parameter's
// shape; counters and scalars as 0-d float64 in the first parameter's), so checkpoints resume it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "optim/optimizer.h"

namespace tg::optim {

struct LBFGSOptions {
  int64_t max_iter = 20;            // iterations per step()
  std::optional<int64_t> max_eval;  // closure calls per step(); max_iter * 5 / 4 by default
  double tolerance_grad = 1e-7;     // stop when every gradient element is this small
  double tolerance_change = 1e-9;   // stop when the loss or the step changes less
  int64_t history_size = 100;
  std::string line_search_fn;  // "" (a fixed step of lr) or "strong_wolfe"
};

class LBFGS : public Optimizer {
 public:
  using Closure = std::function<Tensor()>;
  LBFGS(std::vector<Tensor> params, double lr = 1.0, LBFGSOptions options = {});
  // Runs the closure (with recording on; it must zero the gradients, compute the loss, call
  // backward() and return the loss) as often as the search needs; returns the first loss.
  Tensor step(const Closure& closure);
  const LBFGSOptions options;

 protected:
  // Refused: L-BFGS needs the closure (Optimizer::step() through a base pointer lands here).
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad, ParamState& state) override;
};

}  // namespace tg::optim
