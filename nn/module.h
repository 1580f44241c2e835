// tapegrad/nn/module.h: Module, the base of every layer and model: parameters, buffers and
// submodules registered by name (the names are the state_dict / checkpoint keys), train/eval
// propagated to children, zero_grad, state_dict / load_state_dict and a Keras-style summary.
//   struct Net : tg::nn::Module {
//     Net() : Module("Net") { fc = register_module("fc", std::make_shared<tg::nn::Linear>(784, 10)); }
//     tg::Tensor forward(const tg::Tensor& x) override { return fc->forward(x); }
//     std::shared_ptr<tg::nn::Linear> fc;
//   };
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace tg::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The single-input forward. Modules with other signatures (losses) define their own.
  virtual Tensor forward(const Tensor& input);
  // Calls forward and reports the output to an active summary.
  Tensor operator()(const Tensor& input);

  const std::string& type_name() const { return type_name_; }
  // One line describing the configuration, e.g. "in_features=784, out_features=10, bias=true".
  virtual std::string extra_repr() const { return ""; }

  // Registration. Names must be unique within a module and contain no '.'.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // Qualified names ("features.0.weight") in registration order, depth first.
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  std::vector<std::shared_ptr<Module>> children() const;
  // Every module in the tree (this one first) with its qualified name ("" for this one).
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

  // Calls fn on every submodule (depth first, children before their parent) and then on this
  // one, as torch.nn.Module.apply: e.g. a custom initialization of every Linear.
  Module& apply(const std::function<void(Module&)>& fn);

  // Converts every floating parameter, gradient and buffer to the floating dtype `dtype`, in
  // place (PyTorch's module.to(dtype)): the tensors stay the same objects, so member handles and
  // an optimizer built before keep working (its state, if it has stepped, must be rebuilt).
  // Integral buffers (BatchNorm's num_batches_tracked) are kept.
  Module& to(DType dtype);

  // Sets every parameter's .grad() to undefined (PyTorch's set_to_none=True).
  void zero_grad();
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Parameters and buffers by qualified name (sorted by name).
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in. Throws tg::Error naming every missing, unexpected or mis-shaped entry
  // (missing/unexpected are allowed when strict is false; a shape or dtype mismatch never is).
  // Nothing is modified when it throws.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // A table: layer (qualified name and type), output shape for an input of `input_shape`,
  // parameter count; then totals. Runs one forward without recording.
  std::string summary(const Shape& input_shape, DType dtype = kFloat32);
  int64_t num_parameters() const;

  // "Linear(in_features=784, out_features=10, bias=true)", children indented, like print(model).
  std::string to_string() const;

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  // The children in registration order, without a copy (containers index into them).
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children_ref() const { return children_; }

 private:
  void collect(const std::string& prefix, bool parameters, bool recurse, NamedTensors* out) const;
  std::string type_name_;
  bool training_ = true;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace tg::nn
