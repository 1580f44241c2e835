// tapegrad/optim/optimizer.cc: the optimizer base and gradient clipping.
#include "optim/optimizer.h"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "ops/parallel.h"

namespace tg::optim {

Tensor& ParamState::buffer(const std::string& name, const Tensor& param) {
  Tensor& b = buffers[name];
  if (!b.defined()) b = zeros(param.shape(), param.dtype());
  TG_CHECK(b.dtype() == param.dtype() && b.shape() == param.shape(), "optimizer state '", name, "' is ",
           dtype_name(b.dtype()), " ", shape_str(b.shape()), " but its parameter is ", dtype_name(param.dtype()), " ",
           shape_str(param.shape()), " (was the module converted with to() after the optimizer stepped? build a new ",
           "optimizer after converting)");
  return b;
}

Optimizer::Optimizer(std::vector<ParamGroup> groups, const char* name) : name_(name) {
  TG_CHECK(!groups.empty(), name, ": no parameter groups");
  for (ParamGroup& group : groups) add_param_group(std::move(group));
}

void Optimizer::add_param_group(ParamGroup group) {
  const size_t g = groups_.size();
  TG_CHECK(group.lr >= 0, name_, ": group ", g, " has negative learning rate ", group.lr);
  TG_CHECK(group.weight_decay >= 0, name_, ": group ", g, " has negative weight decay ", group.weight_decay);
  std::map<const void*, std::pair<size_t, size_t>> seen;  // a parameter's first (group, index)
  for (size_t h = 0; h < groups_.size(); ++h) {
    for (size_t i = 0; i < groups_[h].params.size(); ++i) seen.emplace(groups_[h].params[i].impl().get(), std::make_pair(h, i));
  }
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    TG_CHECK(p.defined() && p.is_leaf() && p.requires_grad(), name_, ": parameter ", i, " of group ", g,
             " must be a leaf tensor that requires grad");
    TG_CHECK(p.is_contiguous(), name_, ": parameter ", i, " of group ", g, " ", shape_str(p.shape()),
             " is not contiguous");
    auto [it, inserted] = seen.emplace(p.impl().get(), std::make_pair(g, i));
    TG_CHECK(inserted, name_, ": parameter ", i, " of group ", g, " is also parameter ", it->second.second, " of group ",
             it->second.first, " (a parameter may appear once, as in PyTorch)");
  }
  state_.resize(state_.size() + group.params.size());
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad() {
  for (ParamGroup& g : groups_)
    for (Tensor& p : g.params) p.set_grad(Tensor());
}

void Optimizer::step() {
  NoGradGuard no_grad;
  ops::refresh_team_size();  // the updates below may run in parallel (Note [Sharing the cores])
  const std::string writer = absl::StrCat(name_, ".step()");  // names the write in version errors
  size_t index = 0;
  for (ParamGroup& group : groups_) {
    for (Tensor& p : group.params) {
      ParamState& s = state_[index++];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      TG_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype(), name_, ": gradient ", shape_str(g.shape()),
               " does not match parameter ", shape_str(p.shape()));
      if (!g.is_contiguous()) g = Tensor(g.data().contiguous());
      ++s.step;
      update(group, p, g, s);
      p.data().storage()->bump_version(writer);  // the update wrote through data_ptr
    }
  }
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  TG_CHECK(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    ops::copy_into(g.data(), clamp(g, -clip_value, clip_value).data());
  }
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  TG_CHECK(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0, got ", max_norm);
  TG_CHECK(norm_type >= 1, "clip_grad_norm_: norm_type must be >= 1, got ", norm_type);
  const bool inf = std::isinf(norm_type);
  double total = 0;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    for (double v : p.grad().to_vector<double>()) {
      total = inf ? std::max(total, std::fabs(v)) : total + std::pow(std::fabs(v), norm_type);
    }
  }
  if (!inf) total = std::pow(total, 1.0 / norm_type);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    NoGradGuard no_grad;
    for (const Tensor& p : params) {
      if (p.defined() && p.grad().defined()) p.grad().mul_(coef);
    }
  }
  return total;
}

}  // namespace tg::optim
