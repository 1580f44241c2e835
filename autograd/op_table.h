// tapegrad/autograd/op_table.h: one row per differentiable op (PyTorch's derivatives.yaml,
// tinygrad's gradient table). A row names the op, computes the forward with grad-free ops/
// kernels, declares what backward needs saved, and gives the backward as differentiable tensor
// ops, so create_graph yields higher-order gradients. apply_op() runs a row and records the node.
//   const OpDef& kExp = define_op({
//       .name = "exp",
//       .forward = [](ForwardContext& c) { return ops::unary(ops::UnaryOp::kExp, c.in(0)); },
//       .backward = [](BackwardContext& c) -> Grads { return {c.grad * c.output()}; },
//       .save_output = true,
//       .onnx = {{.op_type = "Exp"}}});
#pragma once

#include <string>
#include <vector>

#include "autograd/attributes.h"
#include "autograd/node.h"
#include "autograd/onnx_mapping.h"
#include "autograd/tensor.h"

namespace tg {

using Grads = std::vector<Tensor>;

// What a forward sees: input arrays (undefined for absent optional inputs) and attributes.
struct ForwardContext {
  const std::vector<ops::Array>& inputs;
  const Attrs& attrs;
  std::vector<ops::Array> extras;  // forward appends values its backward reads
  ops::Generator* generator = nullptr;  // random ops (dropout); the default generator if null
  // False when nothing will read extras (no backward recorded, no caller asking): forward may
  // skip computing them (max_pool2d's indices in inference).
  bool extras_needed = true;

  const ops::Array& in(size_t i) const { return inputs[i]; }
  bool has(size_t i) const { return i < inputs.size() && inputs[i].defined(); }
};

// What a backward sees.
class BackwardContext {
 public:
  BackwardContext(const OpNode& node, const Tensor& grad) : grad(grad), node_(node) {}
  const Tensor grad;
  const Attrs& attrs() const { return node_.attrs(); }
  Tensor input(size_t i) const;   // must be declared in save_inputs
  bool has_input(size_t i) const;  // a saved optional input that was given
  Tensor output() const;          // requires save_output
  Tensor extra(size_t i) const;   // a constant tensor
  const ops::Array& extra_array(size_t i) const;
  const Shape& input_shape(size_t i) const { return node_.input_shapes[i]; }
  DType input_dtype(size_t i) const { return node_.input_dtypes[i]; }
  size_t num_inputs() const { return node_.next_edges.size(); }
  bool needs_grad(size_t i) const { return node_.next_edges[i] != nullptr; }

 private:
  const OpNode& node_;
};

enum class AttrType { kInt, kFloat, kBool, kInts, kString };

// One attribute a row accepts. list_size: required length of an int list (-1: any length).
struct AttrSpec {
  std::string name;
  AttrType type;
  int list_size = -1;
  bool optional = false;
};

struct OpDef {
  std::string name;
  ops::Array (*forward)(ForwardContext&) = nullptr;
  // Null for non-differentiable ops (argmax...): their outputs never require grad.
  Grads (*backward)(BackwardContext&) = nullptr;
  std::vector<int> save_inputs;  // indices of inputs backward reads
  bool save_output = false;
  // False when backward uses saved constants that depend on the inputs (batch_norm, gelu): a
  // second backward through such a gradient throws instead of returning a wrong value.
  bool double_differentiable = true;
  // The signature apply_op enforces before running forward (so a malformed loaded graph gets a
  // clear error, never an out-of-range read): input count and attribute names, types, sizes.
  // Inputs below min_inputs must be defined; the ones after are optional (conv2d's bias).
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number, all required (cat)
  std::vector<AttrSpec> attr_schema;
  // Its ONNX counterpart (autograd/onnx_mapping.h), or why it has none: every row has one of the
  // two (io/onnx_ops_test.cc enforces it).
  std::vector<OnnxMapping> onnx;
  const char* not_onnx = nullptr;
};

// Throws tg::Error naming the op and the first mismatch.
void check_signature(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs);

// Runs op.forward on the inputs' data and, if recording and any input requires grad, records an
// OpNode. Absent optional inputs are passed as undefined tensors.
// extras_out, if given, receives the forward's extra arrays (e.g. max's indices).
Tensor apply_op(const OpDef& op, const std::vector<Tensor>& inputs, Attrs attrs = {},
                ops::Generator* generator = nullptr, std::vector<ops::Array>* extras_out = nullptr);

// Sees every op apply_op runs on this thread (recording or not): graph tracing uses it.
class OpObserver {
 public:
  virtual ~OpObserver() = default;
  virtual void on_op(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs,
                     const Tensor& output) = 0;
  // An in-place op wrote `value` (the output of the ops just observed) into `self`.
  virtual void on_inplace(const Tensor& self, const Tensor& value) = 0;
};
// Installs `observer` for the current thread (nullptr removes it); returns the previous one.
OpObserver* set_op_observer(OpObserver* observer);
OpObserver* current_op_observer();

// Installs an observer for the current thread for its lifetime, restoring the previous one
// however the scope ends (return or any exception).
class OpObserverScope {
 public:
  explicit OpObserverScope(OpObserver* observer) : previous_(set_op_observer(observer)) {}
  ~OpObserverScope() { set_op_observer(previous_); }
  OpObserverScope(const OpObserverScope&) = delete;
  OpObserverScope& operator=(const OpObserverScope&) = delete;

 private:
  OpObserver* previous_;
};

// Every op row by name (graph import re-executes recorded ops through this table).
const OpDef* find_op(const std::string& name);
std::vector<const OpDef*> all_ops();

// Adds a row to the op table and returns the table's copy. Each functions/<family>.cc defines its
// rows this way, during static initialization (so a row is in the table by being written):
//   const OpDef& kExp = define_op({.name = "exp", ...});
// The autograd library is linked whole (alwayslink), so every row is in every program.
const OpDef& define_op(OpDef op);

}  // namespace tg
