// tapegrad/io/graph_module.h: a Module that runs a loaded operator graph: no C++ class of the
// original model is needed. Parameters and buffers keep their original qualified names (the
// module rebuilds the dotted hierarchy), are ordinary trainable tensors, and follow train/eval:
// ops with a "training" attribute (dropout, batch_norm) take the module's current mode.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "autograd/attributes.h"
#include "io/proto/tapegrad.pb.h"
#include "nn/module.h"

namespace tg {
struct OpDef;
}

namespace tg::io {

class GraphModule : public nn::Module {
 public:
  // Validates the graph (known ops, defined inputs, tensors) and runs it once on a batch of 1
  // zeros (of the fixed batch, for a graph traced for one batch size) to check its attributes;
  // errors name the field at fault.
  static absl::StatusOr<std::shared_ptr<GraphModule>> create(const proto::GraphProto& graph,
                                                             const std::string& source);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  // The graph as it would be saved now (current parameter and buffer values).
  proto::GraphProto to_proto() const;
  const Shape& input_shape() const { return input_shape_; }  // symbolic dims (the batch, ...) as -1
  const Shape& example_shape() const { return example_shape_; }  // the traced example's sizes

 private:
  GraphModule() : Module("GraphModule") {}
  struct Node {
    const OpDef* op;
    std::vector<int> inputs;  // slots; -1 for an absent optional input
    int output;
    Attrs attrs;
    bool has_training_attr;
  };
  Tensor register_tensor(const std::string& qualified, const Tensor& t, bool parameter);

  proto::GraphProto graph_;  // nodes and value infos (tensors are read from the module)
  std::vector<Node> nodes_;
  std::vector<Tensor> slots_;  // fixed slots: input, parameters, buffers, constants
  int input_slot_ = 0, output_slot_ = 0, num_slots_ = 0;
  Shape input_shape_, example_shape_;
  DType input_dtype_ = kFloat32;
};

}  // namespace tg::io
