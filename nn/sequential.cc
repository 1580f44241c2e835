// tapegrad/nn/sequential.cc: ModuleList, ModuleDict and Sequential.
#include "nn/sequential.h"

namespace tg::nn {

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules) : ModuleList() {
  for (const auto& m : modules) push_back(m);
}

ModuleList& ModuleList::push_back(std::shared_ptr<Module> module) {
  add_child(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
  return *this;
}

const std::shared_ptr<Module>& ModuleList::operator[](size_t i) const {
  TG_CHECK(i < modules_.size(), type_name(), ": index ", i, " out of range for ", modules_.size(), " modules");
  return modules_[i];
}

ModuleDict::ModuleDict(std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules) : ModuleDict() {
  for (const auto& [key, m] : modules) insert(key, m);
}

ModuleDict& ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
  add_child(key, std::move(module));  // refuses an empty, dotted or repeated key
  return *this;
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [name, m] : named_children()) {
    if (name == key) return true;
  }
  return false;
}

const std::shared_ptr<Module>& ModuleDict::operator[](const std::string& key) const {
  for (const auto& [name, m] : children_ref()) {
    if (name == key) return m;
  }
  TG_CHECK(false, "ModuleDict: no module named '", key, "'");
  static const std::shared_ptr<Module> kNone;
  return kNone;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : named_children()) out.push_back(name);
  return out;
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) : Sequential() {
  for (const auto& m : modules) push_back(m);
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& m : *this) x = (*m)(x);
  return x;
}

}  // namespace tg::nn
