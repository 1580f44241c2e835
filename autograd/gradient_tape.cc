// tapegrad/autograd/gradient_tape.cc: GradientTape on top of the engine's grad().
#include "autograd/gradient_tape.h"

#include "autograd/engine.h"

namespace tg::autograd {

GradientTape::GradientTape(bool persistent) : persistent_(persistent) {}

GradientTape::~GradientTape() {
  for (Tensor& t : watched_) t.set_requires_grad(false);
}

void GradientTape::watch(const Tensor& t) {
  TG_CHECK(t.defined(), "GradientTape::watch: tensor is undefined");
  if (t.requires_grad()) return;
  Tensor handle = t;
  handle.set_requires_grad(true);  // throws for non-leaves and integer tensors
  watched_.push_back(handle);
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources) {
  TG_CHECK(persistent_ || !used_, "GradientTape::gradient: a non-persistent tape can only be used once; ",
           "create it with GradientTape(/*persistent=*/true)");
  used_ = true;
  std::vector<Tensor> wrt;
  std::vector<size_t> where;
  for (size_t i = 0; i < sources.size(); ++i) {
    TG_CHECK(sources[i].defined(), "GradientTape::gradient: source ", i, " is undefined");
    if (sources[i].requires_grad()) {
      wrt.push_back(sources[i]);
      where.push_back(i);
    }
  }
  std::vector<Tensor> out(sources.size());
  if (wrt.empty() || !target.requires_grad()) return out;
  // Like tf: the target's gradient is summed over its elements when it is not a scalar.
  const Tensor seed = ones_like(target);
  std::vector<Tensor> g = grad({target}, wrt, {seed}, /*retain_graph=*/persistent_, /*create_graph=*/false,
                               /*allow_unused=*/true);
  for (size_t k = 0; k < g.size(); ++k) out[where[k]] = g[k];
  return out;
}

}  // namespace tg::autograd
