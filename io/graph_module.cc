// tapegrad/io/graph_module.cc: graph validation and execution through the op table.
#include "io/graph_module.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "io/attributes_proto.h"
#include "io/qualified_names.h"
#include "io/tensor_proto.h"

namespace tg::io {

Tensor GraphModule::register_tensor(const std::string& qualified, const Tensor& t, bool parameter) {
  return register_qualified(*this, qualified, t, parameter);
}

absl::StatusOr<std::shared_ptr<GraphModule>> GraphModule::create(const proto::GraphProto& graph,
                                                                 const std::string& source) {
  std::shared_ptr<GraphModule> m(new GraphModule());
  m->graph_ = graph;
  m->graph_.clear_parameters();
  m->graph_.clear_buffers();  // read back from the module by to_proto()
  std::unordered_map<std::string, int> slot_of;
  auto fail = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
  };
  auto add_slot = [&](const std::string& name, const Tensor& t) -> bool {
    if (name.empty() || slot_of.count(name)) return false;
    slot_of[name] = static_cast<int>(m->slots_.size());
    m->slots_.push_back(t);
    return true;
  };
  if (graph.inputs_size() != 1 || graph.outputs_size() != 1) {
    return fail(absl::StrCat("graph must have exactly one input and one output, has ", graph.inputs_size(), " and ",
                             graph.outputs_size()));
  }
  const proto::ValueInfoProto& in = graph.inputs(0);
  auto in_dtype = from_proto(in.dtype(), "graph.inputs[0]");
  if (!in_dtype.ok()) return fail(std::string(in_dtype.status().message()));
  m->input_dtype_ = *in_dtype;
  for (int i = 0; i < in.shape_size(); ++i) {
    // -1 (symbolic) or a size: the batch may be empty, other dims not.
    const bool valid = in.shape(i) == -1 || (in.shape(i) >= (i == 0 ? 0 : 1) && in.shape(i) <= (int64_t{1} << 31));
    if (!valid) {
      return fail(absl::StrCat("graph.inputs[0].shape[", i, "]: invalid dimension ", in.shape(i)));
    }
    m->input_shape_.push_back(in.shape(i));
  }
  if (m->input_shape_.empty()) return fail("graph.inputs[0].shape: the input needs a batch dimension");
  // Where the loader tries the graph: the traced example's sizes (older files: 1 for the batch).
  if (in.example_shape_size() != 0 && in.example_shape_size() != in.shape_size()) {
    return fail(absl::StrCat("graph.inputs[0].example_shape: ", in.example_shape_size(), " dims for a ",
                             in.shape_size(), "-d input"));
  }
  for (int i = 0; i < in.shape_size(); ++i) {
    const int64_t e = in.example_shape_size() ? in.example_shape(i) : std::max<int64_t>(in.shape(i), 1);
    if (e < 0 || e > (int64_t{1} << 31) || (in.shape(i) >= 0 && e != in.shape(i))) {
      return fail(absl::StrCat("graph.inputs[0].example_shape[", i, "]: ", e, " does not fit shape ",
                               shape_str(m->input_shape_)));
    }
    m->example_shape_.push_back(e);
  }
  add_slot(in.name(), Tensor());
  m->input_slot_ = 0;
  struct Group {
    const google::protobuf::RepeatedPtrField<proto::NamedTensor>* tensors;
    const char* field;
    int kind;  // 0 parameter, 1 buffer, 2 constant
  };
  for (const Group& g : {Group{&graph.parameters(), "graph.parameters", 0}, Group{&graph.buffers(), "graph.buffers", 1},
                         Group{&graph.constants(), "graph.constants", 2}}) {
    auto tensors = from_proto(*g.tensors, g.field);
    if (!tensors.ok()) return fail(std::string(tensors.status().message()));
    for (auto& [name, t] : *tensors) {
      Tensor registered = t;
      if (g.kind < 2) {
        for (const std::string& part : split_qualified_name(name)) {
          if (part.empty()) return fail(absl::StrCat(g.field, " (", name, "): invalid name"));
        }
        if (g.kind == 0 && !is_floating(t.dtype())) {
          return fail(absl::StrCat(g.field, " (", name, "): a parameter must be floating point, is ", dtype_name(t.dtype())));
        }
        try {
          registered = m->register_tensor(name, t, g.kind == 0);
        } catch (const Error& e) {
          return fail(absl::StrCat(g.field, " (", name, "): ", e.what()));
        }
      }
      if (!add_slot(name, registered)) return fail(absl::StrCat(g.field, " (", name, "): name used twice"));
    }
  }
  for (int i = 0; i < graph.nodes_size(); ++i) {
    const proto::NodeProto& n = graph.nodes(i);
    const std::string where = absl::StrCat("graph.nodes[", i, "] (", n.op(), ")");
    Node node;
    node.op = find_op(n.op());
    if (node.op == nullptr) return fail(absl::StrCat(where, ": unknown op kind '", n.op(), "'"));
    for (int k = 0; k < n.inputs_size(); ++k) {
      if (n.inputs(k).empty()) {
        node.inputs.push_back(-1);
        continue;
      }
      auto it = slot_of.find(n.inputs(k));
      if (it == slot_of.end()) {
        return fail(absl::StrCat(where, ".inputs[", k, "]: refers to '", n.inputs(k), "', which is not defined before it"));
      }
      node.inputs.push_back(it->second);
    }
    auto attrs = from_proto(n.attributes(), where);
    if (!attrs.ok()) return fail(std::string(attrs.status().message()));
    node.attrs = *attrs;
    node.has_training_attr = node.attrs.has("training");
    node.output = static_cast<int>(m->slots_.size());
    if (!add_slot(n.output(), Tensor())) {
      return fail(absl::StrCat(where, ".output: '", n.output(), "' is empty or defined twice"));
    }
    m->nodes_.push_back(std::move(node));
  }
  auto out = slot_of.find(graph.outputs(0).name());
  if (out == slot_of.end()) return fail(absl::StrCat("graph.outputs[0]: '", graph.outputs(0).name(), "' is not defined"));
  m->output_slot_ = out->second;
  m->num_slots_ = static_cast<int>(m->slots_.size());
  // Dry run on one sample: catches bad attributes and shape mismatches now, not at first use.
  Shape probe = m->example_shape_;
  if (m->input_shape_[0] < 0) probe[0] = 1;  // a fixed batch (a graph traced for one batch size) stays
  try {
    NoGradGuard no_grad;
    ops::AllocationLimitGuard limit(int64_t{1} << 30);  // a sample's activations never need 1 GiB
    const bool was_training = m->is_training();
    m->eval();
    m->forward(Tensor(ops::Array::zeros(probe, m->input_dtype_)));
    m->train(was_training);
  } catch (const Error& e) {
    return fail(absl::StrCat("graph does not run on an input of shape ", shape_str(probe), ": ", e.what()));
  }
  return m;
}

Tensor GraphModule::forward(const Tensor& input) {
  TG_CHECK(input.defined() && input.dim() == static_cast<int64_t>(input_shape_.size()), "GraphModule: input ",
           input.defined() ? shape_str(input.shape()) : "undefined", " does not match the graph input ",
           shape_str(input_shape_));
  for (size_t d = 0; d < input_shape_.size(); ++d) {
    TG_CHECK(input_shape_[d] < 0 || input.size(d) == input_shape_[d], "GraphModule: input ", shape_str(input.shape()),
             " does not match the graph input ", shape_str(input_shape_), " in dimension ", d);
  }
  TG_CHECK(input.dtype() == input_dtype_, "GraphModule: input is ", dtype_name(input.dtype()), ", the graph expects ",
           dtype_name(input_dtype_));
  // Per-call values live in a local vector: concurrent forwards (eval mode) share nothing mutable.
  std::vector<Tensor> values(slots_);
  values[input_slot_] = input;
  std::vector<Tensor> args;
  for (const Node& node : nodes_) {
    args.clear();
    for (int slot : node.inputs) args.push_back(slot < 0 ? Tensor() : values[slot]);
    if (node.has_training_attr) {
      Attrs attrs = node.attrs;
      attrs.set("training", is_training());
      values[node.output] = apply_op(*node.op, args, std::move(attrs));
    } else {
      values[node.output] = apply_op(*node.op, args, node.attrs);
    }
  }
  return values[output_slot_];
}

std::string GraphModule::extra_repr() const {
  return absl::StrCat("nodes=", nodes_.size(), ", input=", shape_str(input_shape_));
}

proto::GraphProto GraphModule::to_proto() const {
  proto::GraphProto g = graph_;
  io::to_proto(named_parameters(), g.mutable_parameters());
  io::to_proto(named_buffers(), g.mutable_buffers());
  return g;
}

}  // namespace tg::io
