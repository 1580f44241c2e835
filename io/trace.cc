// tapegrad/io/trace.cc: the tracing OpObserver, the GraphProto it builds, and the probe that
// finds which input dims the graph does not depend on.
#include "io/trace.h"

#include <unordered_map>
#include <utility>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "ops/index.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "io/attributes_proto.h"
#include "io/tensor_proto.h"

namespace tg::io {

namespace {

class Tracer : public OpObserver {
 public:
  // with_tensors: write the parameters' and buffers' values into the graph (a probe trace, which
  // only compares nodes and constants, leaves them out).
  Tracer(nn::Module& module, const Tensor& input, proto::GraphProto* graph, bool with_tensors) : graph_(graph) {
    for (auto& [name, t] : module.named_parameters()) track_state(name, t);
    for (auto& [name, t] : module.named_buffers()) track_state(name, t);
    names_[input.impl().get()] = "input";
    traced_.push_back(input);
    if (!with_tensors) return;
    to_proto(module.named_parameters(), graph_->mutable_parameters());  // registration order
    to_proto(module.named_buffers(), graph_->mutable_buffers());
  }

  void on_op(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs, const Tensor& output) override {
    // Note [Constant folding]: an op whose inputs are all constants (a causal mask built from
    // ones and tril, a positional table) is not recorded; its output becomes a constant where it
    // is used. Rows with a training mode (dropout) are always recorded, so they keep switching.
    bool all_constant = !attrs.has("training");
    for (const Tensor& t : inputs) all_constant = all_constant && (!t.defined() || lookup(t).empty());
    if (all_constant) return;
    proto::NodeProto* node = graph_->add_nodes();
    node->set_op(op.name);
    for (const Tensor& t : inputs) node->add_inputs(t.defined() ? name_or_constant(t) : "");
    const std::string out = absl::StrCat("v", graph_->nodes_size());
    names_[output.impl().get()] = out;
    traced_.push_back(output);  // also keeps the address from being reused by a later tensor
    node->set_output(out);
    node->set_output_dtype(to_proto(output.dtype()));
    to_proto(attrs, node->mutable_attributes());
  }

  // An in-place op in the forward (x += y, relu_): the tensor now stands for the op's value, or
  // for a constant if that op was folded. A write to memory another traced value shares (a view
  // and its base) is refused: the graph has no aliasing.
  void on_inplace(const Tensor& self, const Tensor& value) override {
    TG_CHECK(state_.count(self.impl().get()) == 0, "trace: the forward modifies ", lookup(self),
             " in place; a graph cannot carry that state");
    for (const Tensor& t : traced_) {
      TG_CHECK(t.impl() == self.impl() || t.data().storage() != self.data().storage(),
               "trace: an in-place op wrote a tensor that shares memory with another value of the traced graph ",
               "(a view and its base, or a parameter); use the out-of-place op in the forward");
    }
    const std::string name = lookup(value);
    if (name.empty()) {
      names_.erase(self.impl().get());  // re-captured as a constant with its new values where used
    } else {
      if (names_.count(self.impl().get()) == 0) traced_.push_back(self);  // held once
      names_[self.impl().get()] = name;
    }
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
  // A parameter or buffer: named, held, and never written by the forward.
  void track_state(const std::string& name, const Tensor& t) {
    names_[t.impl().get()] = name;
    traced_.push_back(t);
    state_.insert(t.impl().get());
  }

  proto::GraphProto* graph_;
  std::unordered_map<const TensorImpl*, std::string> names_;
  std::vector<Tensor> traced_;      // every named value: parameters, buffers, input, op outputs
  absl::flat_hash_set<const TensorImpl*> state_;  // parameters and buffers
  std::vector<Tensor> keep_alive_;  // constants, so their addresses are not reused
};

proto::ValueInfoProto value_info(const std::string& name, const Tensor& t, const std::vector<bool>& symbolic) {
  proto::ValueInfoProto v;
  v.set_name(name);
  v.set_dtype(to_proto(t.dtype()));
  for (int64_t i = 0; i < t.dim(); ++i) v.add_shape(symbolic[i] ? -1 : t.size(i));
  return v;
}

// The module's buffers (batch-norm statistics) and the default generator, put back by restore()
// and on destruction: a trace runs the forward (in the module's mode) but must leave the model
// and the random stream as they were.
class StateSnapshot {
 public:
  explicit StateSnapshot(nn::Module& module) : generator_(ops::default_generator().state()) {
    for (auto& [name, t] : module.named_buffers()) buffers_.emplace_back(t, t.data().contiguous().clone());
  }
  ~StateSnapshot() { restore(); }
  StateSnapshot(const StateSnapshot&) = delete;
  StateSnapshot& operator=(const StateSnapshot&) = delete;
  void restore() {
    for (auto& [t, values] : buffers_) ops::overwrite(t.data(), values, "trace (restoring buffers)");
    ops::default_generator().set_state(generator_);
  }

 private:
  std::vector<std::pair<Tensor, ops::Array>> buffers_;
  const ops::Generator::State generator_;
};

// Runs module(input) under a fresh tracer into *graph; returns the output (undefined if it was not
// produced by a recorded op) or the forward's error.
absl::StatusOr<std::pair<Tensor, std::string>> record(nn::Module& module, const Tensor& input, proto::GraphProto* graph,
                                                      bool with_tensors) {
  Tracer tracer(module, input, graph, with_tensors);
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
  return std::make_pair(output, tracer.lookup(output));
}

// Note [Symbolic dims]: the batch dim is symbolic when ops record batch-independent attributes,
// and the tracer checks it: the module is traced again on the example repeated twice along the
// batch, and if that trace runs but records other nodes or constants (a reshape to the literal
// batch size), the graph holds for this batch only and the file says so (a fixed size: a load
// at another batch is refused instead of silently computing something else). Any other input dim d is
// symbolic when the graph does not depend on it, found the same way: if the trace on the example
// doubled along d records the same nodes (ops, attributes, inputs) and constants, the graph holds
// for any size of d (a character model traced at length 64 runs at length 8). A forward that
// fails on the doubled input, or records something else (a reshape to a literal length, a mask
// built at the traced length), keeps d fixed.
// The probe leaves no trace: buffers (batch-norm statistics) and the default generator are
// restored after each probe (and trace() restores them after its own forward too).
// `start` is the state the traced forward began from: each probe begins from it too, so random
// draws inside the forward (an initializer, a dropout mask) repeat and compare equal.
std::vector<bool> symbolic_input_dims(nn::Module& module, const Tensor& input, const proto::GraphProto& graph,
                                      const Tensor& output, StateSnapshot& start, std::vector<bool>* output_symbolic) {
  std::vector<bool> symbolic(input.dim(), false);
  symbolic[0] = true;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (input.size(d) == 0) continue;
    start.restore();
    const Tensor doubled(ops::cat({input.data(), input.data()}, d));
    proto::GraphProto probe;
    auto probed = record(module, doubled, &probe, /*with_tensors=*/false);
    bool same = probed.ok() && probed->first.defined() && probed->first.dim() == output.dim() &&
                probe.nodes_size() == graph.nodes_size() && probe.constants_size() == graph.constants_size();
    for (int i = 0; same && i < graph.nodes_size(); ++i) {
      same = google::protobuf::util::MessageDifferencer::Equals(probe.nodes(i), graph.nodes(i));
    }
    for (int i = 0; same && i < graph.constants_size(); ++i) {
      same = google::protobuf::util::MessageDifferencer::Equals(probe.constants(i), graph.constants(i));
    }
    start.restore();
    if (d == 0) {
      // A graph that cannot run at the doubled batch fails loudly at other batches; one that runs
      // but records other nodes or constants (a reshape to the literal batch, a mean's divisor)
      // would silently compute something else there: its batch is fixed.
      if (!same && probed.ok() && probed->first.defined()) {
        symbolic[0] = false;
        if (!output_symbolic->empty()) (*output_symbolic)[0] = false;
      }
      continue;
    }
    if (same) {
      symbolic[d] = true;
      for (int64_t k = 1; k < output.dim(); ++k) {
        if (probed->first.size(k) != output.size(k)) (*output_symbolic)[k] = true;
      }
    }
  }
  return symbolic;
}

}  // namespace

absl::StatusOr<proto::GraphProto> trace(nn::Module& module, const Tensor& example_input) {
  if (!example_input.defined() || example_input.dim() == 0) {
    return absl::InvalidArgumentError("trace: the example input must be a tensor with a batch dimension");
  }
  proto::GraphProto graph;
  StateSnapshot untouched(module);  // the file holds the buffers as they were; so does the model
  Tensor input = example_input.detach();  // a handle of its own, so it is named "input"
  auto recorded = record(module, input, &graph, /*with_tensors=*/true);
  if (!recorded.ok()) return recorded.status();
  const auto& [output, out] = *recorded;
  if (out.empty() || out == "input") {
    return absl::InvalidArgumentError("trace: the module's output was not produced by a recorded op");
  }
  std::vector<bool> output_symbolic(output.dim(), false);
  if (output.dim() > 0) output_symbolic[0] = true;
  const std::vector<bool> input_symbolic = symbolic_input_dims(module, input, graph, output, untouched, &output_symbolic);
  proto::ValueInfoProto* in = graph.add_inputs();
  *in = value_info("input", input, input_symbolic);
  for (int64_t d : input.shape()) in->add_example_shape(d);
  *graph.add_outputs() = value_info(out, output, output_symbolic);
  return graph;
}

}  // namespace tg::io
