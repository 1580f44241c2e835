// tapegrad/nn/module.cc: registration, traversal, state dicts and the summary table.
#include "nn/module.h"

#include <cstdio>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autograd/grad_mode.h"

namespace tg::nn {

namespace {

void check_name(const std::string& owner, const std::string& name, const char* what) {
  TG_CHECK(!name.empty() && name.find('.') == std::string::npos, owner, ": invalid ", what, " name '", name,
           "' (must be non-empty and contain no '.')");
}

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  if (name.empty()) return prefix;
  return absl::StrCat(prefix, ".", name);
}

// The active summary: rows recorded by Module::operator() during Module::summary().
struct SummaryRow {
  const Module* module;
  Shape output_shape;
};
thread_local std::vector<SummaryRow>* active_summary = nullptr;

}  // namespace

Tensor Module::forward(const Tensor&) {
  throw Error(absl::StrCat(type_name_, ": this module has no single-input forward"));
}

Tensor Module::operator()(const Tensor& input) {
  Tensor out = forward(input);
  if (active_summary != nullptr && out.defined()) active_summary->push_back({this, out.shape()});
  return out;
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_name(type_name_, name, "parameter");
  for (const auto& [n, t] : parameters_) TG_CHECK(n != name, type_name_, ": parameter '", name, "' registered twice");
  if (tensor.defined()) {
    TG_CHECK(tensor.is_leaf(), type_name_, ": parameter '", name, "' must be a leaf tensor (use detach())");
    tensor.set_requires_grad(requires_grad);
  }
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_name(type_name_, name, "buffer");
  for (const auto& [n, t] : buffers_) TG_CHECK(n != name, type_name_, ": buffer '", name, "' registered twice");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(type_name_, name, "submodule");
  TG_CHECK(module != nullptr, type_name_, ": submodule '", name, "' is null");
  for (const auto& [n, m] : children_) TG_CHECK(n != name, type_name_, ": submodule '", name, "' registered twice");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool parameters, bool recurse, NamedTensors* out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_) {
    if (t.defined()) out->emplace_back(join(prefix, name), t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect(join(prefix, name), parameters, true, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, recurse, &out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, recurse, &out);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, m] : children_) out.push_back(m);
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out{{"", this}};
  for (const auto& [name, child] : children_) {
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(join(name, sub), m);
  }
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
  return *this;
}

Module& Module::to(DType dtype) {
  TG_CHECK(is_floating(dtype), type_name_, ".to: modules convert to floating dtypes only, got ", dtype_name(dtype));
  NoGradGuard no_grad;
  auto convert = [dtype](const Tensor& t) {
    if (!is_floating(t.dtype()) || t.dtype() == dtype) return;
    t.set_data(t.to(dtype));
    if (t.grad().defined()) t.set_grad(t.grad().to(dtype));
  };
  for (const auto& [name, p] : named_parameters()) convert(p);
  for (const auto& [name, b] : named_buffers()) convert(b);
  return *this;
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out[name] = t;
  for (auto& [name, t] : named_buffers()) out[name] = t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  const std::map<std::string, Tensor> own = state_dict();
  std::vector<std::string> problems;
  for (const auto& [name, t] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      if (strict) problems.push_back(absl::StrCat("missing key '", name, "'"));
      continue;
    }
    if (!it->second.defined() || it->second.shape() != t.shape() || it->second.dtype() != t.dtype()) {
      problems.push_back(absl::StrCat("'", name, "' has shape ",
                                      it->second.defined() ? shape_str(it->second.shape()) : "undefined", " ",
                                      it->second.defined() ? dtype_name(it->second.dtype()) : "", ", expected ",
                                      shape_str(t.shape()), " ", dtype_name(t.dtype())));
    }
  }
  if (strict) {
    for (const auto& [name, t] : state) {
      if (!own.count(name)) problems.push_back(absl::StrCat("unexpected key '", name, "'"));
    }
  }
  TG_CHECK(problems.empty(), type_name_, ".load_state_dict: ", absl::StrJoin(problems, "; "));
  NoGradGuard no_grad;
  for (auto& [name, t] : own) {
    auto it = state.find(name);
    if (it != state.end()) Tensor(t).copy_(it->second);
  }
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

std::string Module::summary(const Shape& input_shape, DType dtype) {
  std::map<const Module*, std::string> names;
  for (auto& [name, m] : named_modules()) names[m] = name;
  std::vector<SummaryRow> rows;
  {
    NoGradGuard no_grad;
    const bool was_training = training_;
    eval();  // no batch-statistics updates, no dropout
    active_summary = &rows;
    try {
      (*this)(Tensor(ops::Array::zeros(input_shape, dtype)));
    } catch (...) {
      active_summary = nullptr;
      train(was_training);
      throw;
    }
    active_summary = nullptr;
    train(was_training);
  }
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %-22s %12s\n", "Layer (type)", "Output shape", "Param #");
  os << line << std::string(68, '=') << "\n";
  for (const SummaryRow& row : rows) {
    if (!row.module->children_.empty()) continue;  // containers: their leaves are the rows
    const std::string label = absl::StrCat(names[row.module].empty() ? "(model)" : names[row.module], " (",
                                           row.module->type_name(), ")");
    std::snprintf(line, sizeof line, "%-32s %-22s %12lld\n", label.c_str(), shape_str(row.output_shape).c_str(),
                  static_cast<long long>(row.module->num_parameters()));
    os << line;
  }
  const int64_t total = num_parameters();
  int64_t trainable = 0;
  for (const Tensor& p : parameters()) trainable += p.requires_grad() ? p.numel() : 0;
  os << std::string(68, '=') << "\n";
  os << "Input shape: " << shape_str(input_shape) << "\n";
  os << "Total params: " << total << "\n";
  os << "Trainable params: " << trainable << "\n";
  os << "Non-trainable params: " << total - trainable << "\n";
  return os.str();
}

std::string Module::to_string() const {
  std::string out = absl::StrCat(type_name_, "(", extra_repr());
  if (children_.empty()) return out + ")";
  out += "\n";
  for (const auto& [name, child] : children_) {
    std::string sub = child->to_string();
    size_t pos = 0;
    while ((pos = sub.find('\n', pos)) != std::string::npos) sub.replace(pos, 1, "\n  "), pos += 3;
    absl::StrAppend(&out, "  (", name, "): ", sub, "\n");
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.to_string(); }

}  // namespace tg::nn
