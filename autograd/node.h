// tapegrad/autograd/node.h: the tape. Each recorded op is a Node holding the op kind, its
// attributes, edges to the nodes of its inputs, and only the values its backward reads.
// Note [One output per node]: every differentiable op has exactly one differentiable output, so a
// node's incoming gradient is one tensor and a non-leaf tensor is identified by its grad_fn.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "autograd/attributes.h"
#include "autograd/tensor.h"

namespace tg {

struct OpDef;

class Node : public std::enable_shared_from_this<Node> {
 public:
  virtual ~Node() = default;
  // "conv2d", "AccumulateGrad", a custom Function's name...
  virtual std::string name() const = 0;
  // Gradients w.r.t. each input (one per next_edges entry; undefined where not needed).
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  // Frees saved values after a backward that does not retain the graph.
  virtual void release_saved() {}
  virtual bool released() const { return false; }

  // Edges to the nodes producing each input; null where the input needs no gradient.
  std::vector<std::shared_ptr<Node>> next_edges;
  // Metadata of the inputs and of the output, for shape checks and error messages.
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  Shape output_shape;
  DType output_dtype = kFloat32;
  // Hooks applied to the incoming gradient before apply() (non-leaf tensor hooks, retain_grad).
  std::vector<Tensor::Hook> pre_hooks;
};

// Throws if `array`'s storage was written since it was saved at `saved_version` (Note [Version
// counter]): "<who>: <what> was modified by the in-place operation <writer> after it was saved
// (it is at version N, saved at version M)...". `what` is only called to build the error (these
// checks run for every saved value of every op).
void check_unmodified(const ops::Array& array, uint64_t saved_version, const std::string& who,
                      absl::FunctionRef<std::string()> what);

// Throws if `t` is an inference tensor (tg::InferenceMode): "<who>: <what> is an inference tensor...".
void check_not_inference(const Tensor& t, const std::string& who, absl::FunctionRef<std::string()> what);

// A value saved for backward. Saved outputs keep only a weak reference to their producing node,
// so a node never owns itself (no reference cycle); the node is alive whenever it is unpacked.
// It remembers its storage's version (Note [Version counter]): unpack throws, naming the saving
// op and the in-place op, if the value was overwritten since it was saved.
class SavedTensor {
 public:
  SavedTensor() = default;
  static SavedTensor input(const Tensor& t);
  static SavedTensor output(const ops::Array& data, const std::shared_ptr<Node>& producer);
  // saver: the op whose backward reads it, for the error.
  Tensor unpack(const std::string& saver) const;
  bool defined() const { return input_.defined() || output_data_.defined(); }
  void reset();

 private:
  const ops::Array& array() const { return input_.defined() ? input_.data() : output_data_; }
  Tensor input_;
  ops::Array output_data_;
  std::weak_ptr<Node> producer_;
  uint64_t version_ = 0;
};

// A node recorded by one row of the op table.
class OpNode : public Node {
 public:
  OpNode(const OpDef& op, Attrs attrs) : op_(&op), attrs_(std::move(attrs)) {}
  std::string name() const override;
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  void release_saved() override;
  bool released() const override { return released_; }

  const OpDef& op() const { return *op_; }
  const Attrs& attrs() const { return attrs_; }

  std::vector<SavedTensor> saved_inputs;  // one slot per input; only the op's declared ones filled
  SavedTensor saved_output;
  std::vector<ops::Array> extras;         // extra forward results backward reads (indices, masks)

 private:
  const OpDef* op_;
  Attrs attrs_;
  bool released_ = false;
};

// Accumulates the incoming gradient into a leaf tensor's .grad().
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  // apply() for the engine, which hands over its own reference: a first gradient that nothing
  // else holds becomes .grad() itself instead of a copy (Note [Gradient accumulation]).
  void accumulate(Tensor grad);
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// The node a gradient w.r.t. `t` flows into: its grad_fn, or (leaves) its AccumulateGrad.
// Null if t does not require grad.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// Records `node` as the producer of `result`: edges to the inputs' nodes, the inputs' and the
// output's shapes and dtypes, result.grad_fn. The one way a tape node is recorded (op rows,
// custom Functions).
void record_node(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, const Tensor& result);

// Note [Gradient accumulation]: the one rule for summing gradients, used by the engine's
// per-node buffers, leaves' .grad() and retained .grad(). With grad mode on (create_graph) the
// sum is a recorded add, so it can be differentiated again; otherwise a plain sum. kStored: the
// sum is kept as a .grad() that later backwards add into in place, so it never aliases the
// incoming gradient (which may be shared with another input's, or a broadcast view): the first
// one is copied, unless the engine hands AccumulateGrad::accumulate a gradient no one else can
// reach (its only handle, not a view of anything still held, dense and contiguous over all of
// its storage), which is kept as it is, as PyTorch steals such a gradient.
enum class GradSum { kTemporary, kStored };
Tensor accumulate_grad(const Tensor& sum, const Tensor& incoming, GradSum kind);

}  // namespace tg
