// tapegrad/autograd/function.h: user-defined differentiable functions (torch.autograd.Function).
//   struct Square : tg::autograd::Function {
//     std::string name() const override { return "square"; }
//     Tensor forward(FunctionContext& ctx, const std::vector<Tensor>& in) override {
//       ctx.save_for_backward({in[0]});
//       return in[0] * in[0];                      // runs without recording
//     }
//     std::vector<Tensor> backward(FunctionContext& ctx, const Tensor& g) override {
//       return {g * ctx.saved()[0] * 2.0};         // differentiable ops: create_graph works
//     }
//   };
//   Tensor y = tg::autograd::apply_function(std::make_shared<Square>(), {x});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/attributes.h"
#include "autograd/tensor.h"

namespace tg::autograd {

class FunctionContext {
 public:
  void save_for_backward(std::vector<Tensor> tensors);
  // The saved tensors; throws if one was modified in place since it was saved (Note [Version
  // counter]).
  const std::vector<Tensor>& saved() const;
  bool needs_input_grad(size_t i) const { return i < needs_input_grad_.size() && needs_input_grad_[i]; }
  Attrs attrs;  // free-form values forward wants backward to see

 private:
  friend Tensor apply_function(const std::shared_ptr<class Function>&, const std::vector<Tensor>&);
  friend class FunctionNode;
  std::vector<Tensor> saved_;
  std::vector<uint64_t> saved_versions_;
  std::vector<bool> needs_input_grad_;
  std::string name_;
};

class Function {
 public:
  virtual ~Function() = default;
  virtual std::string name() const = 0;
  virtual Tensor forward(FunctionContext& ctx, const std::vector<Tensor>& inputs) = 0;
  // One gradient per input (undefined where not needed).
  virtual std::vector<Tensor> backward(FunctionContext& ctx, const Tensor& grad_output) = 0;
};

Tensor apply_function(const std::shared_ptr<Function>& fn, const std::vector<Tensor>& inputs);

}  // namespace tg::autograd
