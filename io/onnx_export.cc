// tapegrad/io/onnx_export.cc: writes each node as its op row's ONNX mapping (OpDef::onnx, see
// autograd/onnx_mapping.h); tensors become ONNX initializers.
#include "io/onnx_export.h"

#include <map>
#include <variant>

#include "absl/strings/str_cat.h"
#include "autograd/op_table.h"
#include "io/attributes_proto.h"
#include "io/file_io.h"
#include "io/tensor_proto.h"
#include "io/trace.h"
#include "onnx/checker.h"

namespace tg::io {

namespace {

int onnx_type(proto::DataType t) {
  switch (t) {
    case proto::FLOAT32: return onnx::TensorProto::FLOAT;
    case proto::FLOAT64: return onnx::TensorProto::DOUBLE;
    case proto::INT64: return onnx::TensorProto::INT64;
    case proto::BOOL: return onnx::TensorProto::BOOL;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

void add_initializer(onnx::GraphProto* g, const std::string& name, const proto::TensorProto& t) {
  onnx::TensorProto* o = g->add_initializer();
  o->set_name(name);
  o->set_data_type(onnx_type(t.dtype()));
  for (int64_t d : t.shape()) o->add_dims(d);
  o->set_raw_data(t.raw_data());
}

void set_value_info(onnx::ValueInfoProto* v, const proto::ValueInfoProto& info) {
  v->set_name(info.name());
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx_type(info.dtype()));
  tensor->mutable_shape();  // present even with no dims: a 0-d value has a known (empty) shape
  for (int i = 0; i < info.shape_size(); ++i) {
    const int64_t d = info.shape(i);
    auto* dim = tensor->mutable_shape()->add_dim();
    if (d < 0) {
      // The batch is one size everywhere; another symbolic dim is named for its value alone.
      dim->set_dim_param(i == 0 ? std::string("N") : absl::StrCat(info.name(), "_dim", i));
    } else {
      dim->set_dim_value(d);
    }
  }
}

// One ONNX attribute from a value: ints and bools become INT, doubles FLOAT, lists INTS.
void add_attribute(onnx::NodeProto* n, const std::string& name, const AttrValue& value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(*i);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(*b ? 1 : 0);
  } else if (const auto* f = std::get_if<double>(&value)) {
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(*f));
  } else if (const auto* list = std::get_if<std::vector<int64_t>>(&value)) {
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : *list) a->add_ints(v);
  } else {
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(std::get<std::string>(value));
  }
}

// The ONNX value of a tapegrad attribute under `form` (see OnnxAttrForm).
AttrValue onnx_attr_value(const OnnxAttr& rule, const Attrs& a) {
  switch (rule.form) {
    case OnnxAttrForm::kSame: {
      for (const auto& [name, value] : a.items())
        if (name == rule.tg) return value;
      return AttrValue();  // unreachable: callers check has()
    }
    case OnnxAttrForm::kIntToList: return std::vector<int64_t>{a.i(rule.tg)};
    case OnnxAttrForm::kPads2d: {
      const std::vector<int64_t>& p = a.ints(rule.tg);
      TG_CHECK(p.size() == 2, "attribute '", rule.tg, "' must be [h, w], got ", p.size(), " values");
      return std::vector<int64_t>{p[0], p[1], p[0], p[1]};
    }
    case OnnxAttrForm::kOneMinus: return 1.0 - a.f(rule.tg);
    case OnnxAttrForm::kDtype: {
      const int64_t code = a.i(rule.tg);
      TG_CHECK(code >= 0 && code <= static_cast<int64_t>(kBool), "attribute '", rule.tg, "': unknown dtype code ", code);
      return static_cast<int64_t>(onnx_type(to_proto(static_cast<DType>(code))));
    }
  }
  return AttrValue();
}

// A constant ONNX input (a 0-d or 1-d initializer) with a fresh name.
class Constants {
 public:
  explicit Constants(onnx::GraphProto* g) : g_(g) {}
  std::string int64s(const std::vector<int64_t>& values, bool scalar = false) {
    onnx::TensorProto* t = add(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return t->name();
  }
  std::string scalar(double value, int onnx_dtype) {
    onnx::TensorProto* t = add(onnx_dtype);
    switch (onnx_dtype) {
      case onnx::TensorProto::DOUBLE: t->add_double_data(value); break;
      case onnx::TensorProto::INT64: t->add_int64_data(static_cast<int64_t>(value)); break;
      case onnx::TensorProto::BOOL: t->add_int32_data(value != 0); break;
      default: t->set_data_type(onnx::TensorProto::FLOAT); t->add_float_data(static_cast<float>(value));
    }
    return t->name();
  }

 private:
  onnx::TensorProto* add(int dtype) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(absl::StrCat("onnx_const_", next_++));
    t->set_data_type(dtype);
    return t;
  }
  onnx::GraphProto* g_;
  int next_ = 0;
};

bool is_floating_onnx_type(int t) { return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE; }

// The first of the row's ONNX mappings that accepts node n (attributes a, input 0 of ONNX
// element type input0_type), or why none does.
absl::StatusOr<const OnnxMapping*> choose_mapping(const OpDef& op, const proto::NodeProto& n, const Attrs& a,
                                                  int input0_type, const std::string& where) {
  if (op.onnx.empty()) {
    return absl::UnimplementedError(absl::StrCat(where, ": op '", op.name, "' has no ONNX mapping: ",
                                                 op.not_onnx ? op.not_onnx : "no reason given"));
  }
  std::vector<bool> present;
  for (const auto& in : n.inputs()) present.push_back(!in.empty());
  std::string refusals;
  for (const OnnxMapping& candidate : op.onnx) {
    std::string why = candidate.refuse ? candidate.refuse(a, present) : "";
    if (why.empty() && candidate.input_class != OnnxInputClass::kAny &&
        is_floating_onnx_type(input0_type) != (candidate.input_class == OnnxInputClass::kFloating)) {
      why = candidate.input_class == OnnxInputClass::kFloating ? "needs a floating input" : "needs an integer input";
    }
    if (why.empty()) return &candidate;
    absl::StrAppend(&refusals, refusals.empty() ? "" : "; ", candidate.op_type, ": ", why);
  }
  return absl::UnimplementedError(absl::StrCat(where, ": cannot be exported (", refusals, ")"));
}

// Fills o (inputs and attributes) as the one-node mapping m of node n; step_outputs names the
// outputs of the earlier steps of a multi-step mapping.
void write_node(const OnnxMapping& m, const proto::NodeProto& n, const Attrs& a, int input0_type,
                const std::vector<std::string>& step_outputs, Constants& constants, onnx::NodeProto* o) {
  o->set_op_type(m.op_type);
  auto row_input = [&](int k) { return k < n.inputs_size() ? n.inputs(k) : std::string(); };
  if (m.inputs.empty()) {
    for (const auto& in : n.inputs()) o->add_input(in);
  }
  for (const OnnxInput& in : m.inputs) {
    switch (in.form) {
      case OnnxInputForm::kInput: o->add_input(row_input(in.index)); break;
      case OnnxInputForm::kScalar:
        o->add_input(a.has(in.attr) ? constants.scalar(a.f(in.attr), input0_type) : "");
        break;
      case OnnxInputForm::kBoolScalar: o->add_input(constants.scalar(a.b(in.attr), onnx::TensorProto::BOOL)); break;
      case OnnxInputForm::kInt64List: o->add_input(constants.int64s(a.ints(in.attr))); break;
      case OnnxInputForm::kInt64ListOrNone:
        o->add_input(a.ints(in.attr).empty() ? "" : constants.int64s(a.ints(in.attr)));
        break;
      case OnnxInputForm::kInt64One: o->add_input(constants.int64s({a.i(in.attr)})); break;
      case OnnxInputForm::kStep:
        TG_CHECK(in.index >= 0 && in.index < static_cast<int>(step_outputs.size()), m.op_type,
                 ": reads step ", in.index, " before it is written");
        o->add_input(in.output == 0 ? step_outputs[in.index] : absl::StrCat(step_outputs[in.index], "_", in.output));
        break;
      case OnnxInputForm::kConstant: o->add_input(constants.scalar(in.value, input0_type)); break;
    }
  }
  if (m.computed_shape) o->add_input(constants.int64s(m.computed_shape(a)));
  while (o->input_size() > 0 && o->input(o->input_size() - 1).empty()) o->mutable_input()->RemoveLast();
  for (const OnnxAttr& rule : m.attrs) {
    if (!a.has(rule.tg)) {  // an absent optional attribute: the row's default
      if (rule.if_absent) add_attribute(o, rule.onnx, *rule.if_absent);
      continue;
    }
    const AttrValue v = onnx_attr_value(rule, a);
    if (const auto* list = std::get_if<std::vector<int64_t>>(&v); list && list->empty()) continue;
    add_attribute(o, rule.onnx, v);
  }
  for (const auto& [name, value] : m.fixed_ints) add_attribute(o, name, value);
  for (const auto& [name, value] : m.fixed_floats) add_attribute(o, name, value);
  for (const auto& [name, value] : m.fixed_strings) add_attribute(o, name, std::string(value));
}

// Writes graph node n (index i, row op) as one ONNX node or, for a multi-step mapping, a chain.
absl::Status write_nodes(const OpDef& op, const proto::NodeProto& n, int i, const Attrs& a, const std::string& where,
                         const std::map<std::string, int>& value_dtype, Constants& constants, onnx::GraphProto* g) {
  int input0_type = onnx::TensorProto::FLOAT;
  if (n.inputs_size() > 0) {
    if (auto it = value_dtype.find(n.inputs(0)); it != value_dtype.end()) input0_type = it->second;
  }
  absl::StatusOr<const OnnxMapping*> m = choose_mapping(op, n, a, input0_type, where);
  if (!m.ok()) return m.status();
  if ((*m)->steps.empty()) {
    onnx::NodeProto* o = g->add_node();
    o->set_name(absl::StrCat(n.op(), "_", i));
    write_node(**m, n, a, input0_type, {}, constants, o);
    o->add_output(n.output());
    for (int k = 0; k < (*m)->unused_outputs; ++k) o->add_output(absl::StrCat(n.output(), "_unused_", k));
    return absl::OkStatus();
  }
  std::vector<std::string> step_outputs;
  const auto& steps = (*m)->steps;
  for (size_t k = 0; k < steps.size(); ++k) {
    onnx::NodeProto* o = g->add_node();
    o->set_name(absl::StrCat(n.op(), "_", i, ".", k));  // still the row's name before the last _
    write_node(steps[k], n, a, input0_type, step_outputs, constants, o);
    step_outputs.push_back(k + 1 == steps.size() ? n.output() : absl::StrCat(n.output(), "_", op.name, "_step", k));
    o->add_output(step_outputs.back());
    for (int j = 1; j <= steps[k].unused_outputs; ++j) o->add_output(absl::StrCat(step_outputs.back(), "_", j));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<onnx::ModelProto> to_onnx(const proto::GraphProto& graph, const std::string& graph_name) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("tapegrad");
  model.set_producer_version(version());
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph_name);
  std::map<std::string, int> value_dtype;
  for (const auto& v : graph.inputs()) {
    set_value_info(g->add_input(), v);
    value_dtype[v.name()] = onnx_type(v.dtype());
  }
  for (const auto& v : graph.outputs()) set_value_info(g->add_output(), v);
  for (const auto* group : {&graph.parameters(), &graph.buffers(), &graph.constants()}) {
    for (const auto& t : *group) {
      add_initializer(g, t.name(), t.tensor());
      value_dtype[t.name()] = onnx_type(t.tensor().dtype());
    }
  }
  Constants constants(g);
  for (int i = 0; i < graph.nodes_size(); ++i) {
    const proto::NodeProto& n = graph.nodes(i);
    const std::string where = absl::StrCat("to_onnx: graph.nodes[", i, "] (", n.op(), ")");
    const OpDef* op = find_op(n.op());
    if (!op) return absl::InvalidArgumentError(absl::StrCat(where, ": unknown op '", n.op(), "'"));
    auto attrs_or = from_proto(n.attributes(), where);
    if (!attrs_or.ok()) return attrs_or.status();
    try {
      if (absl::Status s = write_nodes(*op, n, i, *attrs_or, where, value_dtype, constants, g); !s.ok()) return s;
    } catch (const Error& e) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
    }
    if (n.output_dtype() != proto::DATA_TYPE_UNSPECIFIED) value_dtype[n.output()] = onnx_type(n.output_dtype());
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("to_onnx: the exported model fails onnx::checker: ", e.what()));
  }
  return model;
}

absl::StatusOr<onnx::ModelProto> to_onnx(nn::Module& module, const Tensor& example_input) {
  auto graph = trace(module, example_input);
  if (!graph.ok()) return graph.status();
  return to_onnx(*graph);
}

absl::Status save_onnx(const onnx::ModelProto& model, const std::string& path) {
  return write_file_atomically(path, serialize_deterministic(model));
}

}  // namespace tg::io
