// tapegrad/autograd/function.cc: the tape node for user-defined Functions.
#include "autograd/function.h"

#include "absl/strings/str_cat.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace tg::autograd {

void FunctionContext::save_for_backward(std::vector<Tensor> tensors) {
  saved_ = std::move(tensors);
  saved_versions_.clear();
  for (const Tensor& t : saved_) saved_versions_.push_back(t.defined() ? t.data().storage()->version() : 0);
}

const std::vector<Tensor>& FunctionContext::saved() const {
  for (size_t i = 0; i < saved_.size(); ++i) {
    if (!saved_[i].defined()) continue;
    check_unmodified(saved_[i].data(), saved_versions_[i], name_, [i] { return absl::StrCat("saved tensor ", i); });
  }
  return saved_;
}

class FunctionNode : public Node {
 public:
  FunctionNode(std::shared_ptr<Function> fn, FunctionContext ctx) : fn_(std::move(fn)), ctx_(std::move(ctx)) {}
  std::string name() const override { return fn_->name(); }
  std::vector<Tensor> apply(const Tensor& grad_output) override {
    TG_CHECK(!released_, name(), ": trying to backward through the graph a second time; pass retain_graph=true");
    std::vector<Tensor> grads = fn_->backward(ctx_, grad_output);
    TG_CHECK(grads.size() == next_edges.size(), name(), ": backward returned ", grads.size(), " gradients for ",
             next_edges.size(), " inputs");
    return grads;
  }
  void release_saved() override {
    ctx_.saved_.clear();
    released_ = true;
  }
  bool released() const override { return released_; }

 private:
  std::shared_ptr<Function> fn_;
  FunctionContext ctx_;
  bool released_ = false;
};

Tensor apply_function(const std::shared_ptr<Function>& fn, const std::vector<Tensor>& inputs) {
  TG_CHECK(fn != nullptr, "apply_function: function is null");
  FunctionContext ctx;
  ctx.name_ = fn->name();
  bool any = false;
  for (const Tensor& t : inputs) {
    ctx.needs_input_grad_.push_back(t.defined() && t.requires_grad());
    any = any || ctx.needs_input_grad_.back();
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = fn->forward(ctx, inputs);
  }
  TG_CHECK(out.defined(), fn->name(), ": forward returned an undefined tensor");
  // A fresh handle: the forward may have returned one of its inputs.
  Tensor result(out.data());
  if (!any || !GradMode::is_enabled()) return result;
  for (size_t i = 0; i < ctx.saved_.size(); ++i) {
    if (ctx.saved_[i].defined()) {
      check_not_inference(ctx.saved_[i], ctx.name_, [i] { return absl::StrCat("saved tensor ", i); });
    }
  }
  // Saving the output itself would make the node own itself; keep its data instead.
  for (Tensor& s : ctx.saved_) {
    if (s.defined() && (s.impl() == out.impl() || s.impl() == result.impl())) s = Tensor(s.data());
  }
  record_node(std::make_shared<FunctionNode>(fn, std::move(ctx)), inputs, result);
  return result;
}

}  // namespace tg::autograd
