// tapegrad/nn/sequential.h: the containers: ModuleList, modules held for the owner's forward to
// call, and Sequential, a ModuleList whose forward chains them (any Module, including user-defined
// ones); both name their children "0", "1", ... like torch.nn.ModuleList and torch.nn.Sequential.
// ModuleDict holds modules by name (in insertion order), like torch.nn.ModuleDict.
//   auto net = std::make_shared<tg::nn::Sequential>(std::initializer_list<std::shared_ptr<tg::nn::Module>>{
//       std::make_shared<tg::nn::Linear>(4, 8), std::make_shared<tg::nn::ReLU>()});
#pragma once

#include <initializer_list>

#include "nn/module.h"

namespace tg::nn {

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a module named by its position.
  ModuleList& push_back(std::shared_ptr<Module> module);
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
  // The module at i as its own type (throws if it is another).
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    TG_CHECK(m != nullptr, type_name(), ": module ", i, " is a ", (*this)[i]->type_name());
    return m;
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 protected:
  explicit ModuleList(const char* type_name) : Module(type_name) {}

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict(std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules);
  // Adds a module under a new key (keys are child names: no '.', not used twice).
  ModuleDict& insert(const std::string& key, std::shared_ptr<Module> module);
  bool contains(const std::string& key) const;
  const std::shared_ptr<Module>& operator[](const std::string& key) const;
  std::vector<std::string> keys() const;
  size_t size() const { return named_children().size(); }
};

class Sequential : public ModuleList {
 public:
  Sequential() : ModuleList("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  Sequential& push_back(std::shared_ptr<Module> module) {
    ModuleList::push_back(std::move(module));
    return *this;
  }
  Tensor forward(const Tensor& input) override;
};

}  // namespace tg::nn
