// tapegrad/io/trace.cc: the tracing OpObserver and the GraphProto it builds.
#include "io/trace.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "io/attributes_proto.h"
#include "io/tensor_proto.h"

namespace tg::io {

namespace {

class Tracer : public OpObserver {
 public:
  Tracer(nn::Module& module, const Tensor& input, proto::GraphProto* graph) : graph_(graph) {
    for (auto& [name, t] : module.named_parameters()) names_[t.impl().get()] = name;
    for (auto& [name, t] : module.named_buffers()) names_[t.impl().get()] = name;
    names_[input.impl().get()] = "input";
    to_proto(module.named_parameters(), graph_->mutable_parameters());  // registration order
    to_proto(module.named_buffers(), graph_->mutable_buffers());
  }

  void on_op(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs, const Tensor& output) override {
    proto::NodeProto* node = graph_->add_nodes();
    node->set_op(op.name);
    for (const Tensor& t : inputs) node->add_inputs(t.defined() ? name_or_constant(t) : "");
    const std::string out = absl::StrCat("v", graph_->nodes_size());
    names_[output.impl().get()] = out;
    keep_alive_.push_back(output);  // an address must not be reused by a later tensor
    node->set_output(out);
    node->set_output_dtype(to_proto(output.dtype()));
    to_proto(attrs, node->mutable_attributes());
  }

  std::string lookup(const Tensor& t) const {
    auto it = names_.find(t.impl().get());
    return it != names_.end() ? it->second : "";
  }

  // An input never seen before (a scalar in x * 2.0, a mask...): a constant of the graph.
  std::string name_or_constant(const Tensor& t) {
    auto it = names_.find(t.impl().get());
    if (it != names_.end()) return it->second;
    const std::string name = absl::StrCat("const", graph_->constants_size());
    proto::NamedTensor* c = graph_->add_constants();
    c->set_name(name);
    *c->mutable_tensor() = to_proto(t);
    names_[t.impl().get()] = name;
    keep_alive_.push_back(t);
    return name;
  }

 private:
  proto::GraphProto* graph_;
  std::unordered_map<const TensorImpl*, std::string> names_;
  std::vector<Tensor> keep_alive_;
};

proto::ValueInfoProto value_info(const std::string& name, const Tensor& t) {
  proto::ValueInfoProto v;
  v.set_name(name);
  v.set_dtype(to_proto(t.dtype()));
  for (int64_t i = 0; i < t.dim(); ++i) v.add_shape(i == 0 ? -1 : t.size(i));  // batch is symbolic
  return v;
}

}  // namespace

absl::StatusOr<proto::GraphProto> trace(nn::Module& module, const Tensor& example_input) {
  if (!example_input.defined() || example_input.dim() == 0) {
    return absl::InvalidArgumentError("trace: the example input must be a tensor with a batch dimension");
  }
  proto::GraphProto graph;
  Tensor input = example_input.detach();  // a handle of its own, so it is named "input"
  Tracer tracer(module, input, &graph);
  Tensor output;
  {
    NoGradGuard no_grad;
    OpObserverScope observe(&tracer);  // removed again whatever the forward throws
    try {
      output = module(input);
    } catch (const Error& e) {
      return absl::InvalidArgumentError(absl::StrCat("trace: forward failed: ", e.what()));
    }
  }
  const std::string out = tracer.lookup(output);
  if (out.empty() || out == "input") {
    return absl::InvalidArgumentError("trace: the module's output was not produced by a recorded op");
  }
  *graph.add_inputs() = value_info("input", input);
  *graph.add_outputs() = value_info(out, output);
  return graph;
}

}  // namespace tg::io
