// tapegrad/autograd/op_table.cc: the op registry and apply_op, the single place ops are recorded.
#include "autograd/op_table.h"

#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autograd/anomaly_mode.h"
#include "autograd/grad_mode.h"
#include "autograd/inplace.h"

namespace tg {

namespace {

// Filled during static initialization by define_op (one call per row), read-only afterwards.
std::map<std::string, std::unique_ptr<const OpDef>>& registry() {
  static std::map<std::string, std::unique_ptr<const OpDef>> table;
  return table;
}

thread_local OpObserver* op_observer = nullptr;

}  // namespace

OpObserver* current_op_observer() { return op_observer; }

OpObserver* set_op_observer(OpObserver* observer) {
  OpObserver* previous = op_observer;
  op_observer = observer;
  return previous;
}

const OpDef& define_op(OpDef op) {
  const std::string name = op.name;
  auto [it, inserted] = registry().emplace(name, std::make_unique<const OpDef>(std::move(op)));
  TG_CHECK(inserted, "define_op: op '", name, "' defined twice");
  return *it->second;
}

const OpDef* find_op(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<const OpDef*> all_ops() {
  std::vector<const OpDef*> out;
  for (const auto& [name, op] : registry()) out.push_back(op.get());
  return out;
}

Tensor BackwardContext::input(size_t i) const {
  TG_CHECK(i < node_.saved_inputs.size() && node_.saved_inputs[i].defined(), node_.name(),
           ": backward read input ", i, " which the op row does not save");
  return node_.saved_inputs[i].unpack(node_.name());
}

bool BackwardContext::has_input(size_t i) const {
  return i < node_.saved_inputs.size() && node_.saved_inputs[i].defined();
}

Tensor BackwardContext::output() const {
  TG_CHECK(node_.saved_output.defined(), node_.name(), ": backward read the output, which is not saved");
  return node_.saved_output.unpack(node_.name());
}

Tensor BackwardContext::extra(size_t i) const { return Tensor(extra_array(i)); }

const ops::Array& BackwardContext::extra_array(size_t i) const {
  TG_CHECK(i < node_.extras.size(), node_.name(), ": backward read extra ", i, " of ", node_.extras.size());
  return node_.extras[i];
}

static const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kInt: return "int";
    case AttrType::kFloat: return "float";
    case AttrType::kBool: return "bool";
    case AttrType::kInts: return "int list";
    case AttrType::kString: return "string";
  }
  return "?";
}

void check_signature(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs) {
  const size_t num_inputs = inputs.size();
  TG_CHECK(static_cast<int>(num_inputs) >= op.min_inputs && (op.max_inputs < 0 || static_cast<int>(num_inputs) <= op.max_inputs),
           op.name, ": got ", num_inputs, " inputs, expected ", op.min_inputs,
           op.max_inputs == op.min_inputs ? "" : (op.max_inputs < 0 ? " or more" : absl::StrCat(" to ", op.max_inputs)));
  for (size_t i = 0; i < num_inputs; ++i) {
    const bool required = op.max_inputs < 0 || static_cast<int>(i) < op.min_inputs;
    TG_CHECK(!required || inputs[i].defined(), op.name, ": input ", i, " is undefined");
  }
  for (const auto& [name, value] : attrs.items()) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& s : op.attr_schema)
      if (s.name == name) spec = &s;
    TG_CHECK(spec != nullptr, op.name, ": unexpected attribute '", name, "'");
    const bool type_ok = (spec->type == AttrType::kInt && std::holds_alternative<int64_t>(value)) ||
                         (spec->type == AttrType::kFloat && std::holds_alternative<double>(value)) ||
                         (spec->type == AttrType::kBool && std::holds_alternative<bool>(value)) ||
                         (spec->type == AttrType::kInts && std::holds_alternative<std::vector<int64_t>>(value)) ||
                         (spec->type == AttrType::kString && std::holds_alternative<std::string>(value));
    TG_CHECK(type_ok, op.name, ": attribute '", name, "' must be of type ", attr_type_name(spec->type));
    if (spec->type == AttrType::kInts && spec->list_size >= 0) {
      const size_t n = std::get<std::vector<int64_t>>(value).size();
      TG_CHECK(static_cast<int>(n) == spec->list_size, op.name, ": attribute '", name, "' needs ", spec->list_size,
               " values, got ", n);
    }
  }
  for (const AttrSpec& s : op.attr_schema) {
    TG_CHECK(s.optional || attrs.has(s.name), op.name, ": attribute '", s.name, "' is missing");
  }
}

Tensor apply_op(const OpDef& op, const std::vector<Tensor>& inputs, Attrs attrs, ops::Generator* generator,
                std::vector<ops::Array>* extras_out) {
  check_signature(op, inputs, attrs);
  std::vector<ops::Array> arrays;
  arrays.reserve(inputs.size());
  bool any_requires_grad = false;
  for (const Tensor& t : inputs) {
    arrays.push_back(t.defined() ? t.data() : ops::Array());
    any_requires_grad = any_requires_grad || (t.defined() && t.requires_grad());
  }
  const bool recording = op.backward && any_requires_grad && GradMode::is_enabled();
  ForwardContext ctx{arrays, attrs, {}, generator, recording || extras_out != nullptr};
  ops::Array out = op.forward(ctx);
  if (autograd::DetectAnomalyGuard::is_enabled()) autograd::check_forward(op.name, inputs, attrs, out);
  Tensor result(out);
  for (const Tensor& t : inputs) internal::mark_view(t, result);
  if (extras_out != nullptr) *extras_out = ctx.extras;
  if (op_observer != nullptr) op_observer->on_op(op, inputs, attrs, result);
  if (!recording) return result;

  auto node = std::make_shared<OpNode>(op, std::move(attrs));
  record_node(node, inputs, result);
  node->saved_inputs.resize(inputs.size());
  for (int i : op.save_inputs) {
    if (!inputs[i].defined()) continue;
    check_not_inference(inputs[i], op.name, [i] { return absl::StrCat("input ", i); });
    node->saved_inputs[i] = SavedTensor::input(inputs[i]);
  }
  if (op.save_output) node->saved_output = SavedTensor::output(out, node);
  node->extras = std::move(ctx.extras);
  return result;
}

}  // namespace tg
