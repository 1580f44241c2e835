// tapegrad/io/onnx_converters.h: the ONNX import operator table: one converter per ONNX op type,
// written with tapegrad's differentiable functions, so an imported graph trains like any module
// (gradients, double backward, tracing into a .tgm). Each converter sees the node's input
// tensors and typed attribute getters that name the attribute at fault; shape inputs (Reshape's
// shape, Slice's bounds...) are ordinary int64 tensors read at run time, so dynamic dimensions
// stay dynamic. Families register their rows from io/onnx_convert_<family>.cc:
//   const bool kRegistered = register_onnx_converters({
//       {.op_type = "Relu", .convert = [](OnnxNodeContext& c) -> Tensors { return {relu(c.in(0))}; }},
//   });
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "onnx/onnx_pb.h"
#include "ops/conv.h"

namespace tg::io {

using Tensors = std::vector<Tensor>;

class OnnxNodeContext {
 public:
  OnnxNodeContext(const onnx::NodeProto& node, const std::vector<Tensor>& inputs, int opset, int num_outputs,
                  bool training);

  int opset() const { return opset_; }
  bool training() const { return training_; }  // the module's mode (Dropout, BatchNormalization)
  int num_outputs() const { return num_outputs_; }  // outputs the graph names (absent optional ones count)

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  bool has_in(int i) const { return i < num_inputs() && inputs_[i].defined(); }
  const Tensor& in(int i) const;  // throws when absent
  // A shape-like input (1-d or 0-d int64) as numbers.
  std::vector<int64_t> int_values(int i) const;
  // A 0-d or one-element input as a number.
  double scalar_value(int i) const;
  // The same as an integer (int64 inputs read exactly; floats must be whole and within +-2^53).
  int64_t int_scalar(int i) const;

  bool has(const std::string& attr) const { return attrs_.count(attr) > 0; }
  int64_t i(const std::string& attr, std::optional<int64_t> fallback = std::nullopt) const;
  double f(const std::string& attr, std::optional<double> fallback = std::nullopt) const;
  std::string s(const std::string& attr, std::optional<std::string> fallback = std::nullopt) const;
  std::vector<int64_t> ints(const std::string& attr, std::optional<std::vector<int64_t>> fallback = std::nullopt) const;
  std::vector<double> floats(const std::string& attr) const;
  std::vector<std::string> strings(const std::string& attr) const;
  Tensor t(const std::string& attr) const;  // a TENSOR attribute (Constant, ConstantOfShape)

  // A dimension index from ONNX (negative counts from the end) checked against rank.
  int64_t axis(int64_t a, int64_t rank, const char* what = "axis") const;

 private:
  const onnx::AttributeProto& attr(const std::string& name, int type) const;
  const onnx::NodeProto& node_;
  const std::vector<Tensor>& inputs_;
  std::map<std::string, const onnx::AttributeProto*> attrs_;
  int opset_, num_outputs_;
  bool training_;
};

struct OnnxConverter {
  const char* op_type = nullptr;
  Tensors (*convert)(OnnxNodeContext&) = nullptr;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number
  int max_outputs = 1;
  // Inputs that are shapes, indices or settings, never trained: an initializer feeding only
  // these stays a constant.
  std::vector<int> constant_inputs;
  // Inputs that are state updated by the op (batch-norm running statistics): buffers.
  std::vector<int> buffer_inputs;
  // True when the result depends on the module's mode or a random draw (Dropout,
  // BatchNormalization): such a node is never folded into a constant at load.
  bool depends_on_mode = false;
  // Opsets the converter implements (the default: every opset tapegrad imports).
  int min_opset = 1;
  int max_opset = 1000;
};

bool register_onnx_converters(std::vector<OnnxConverter> converters);
// The converter for op_type at `opset`, or null.
const OnnxConverter* find_onnx_converter(const std::string& op_type, int opset);
std::vector<std::string> onnx_converter_op_types();

// The Conv converter with the epilogue of Note [Fused convolution] (ops/conv.h): relu(conv +
// residual), either part optional; undefined when the residual does not have the output's shape
// and dtype (an Add that broadcasts). For Note [Inference fusion on import] (io/onnx_import.cc).
Tensor fused_conv_onnx(OnnxNodeContext& c, const Tensor& residual, bool relu);
// The Conv node's 2-d parameters for input shape x when it can run as one convolution in the
// kernel's layout (Note [Kernel layout] in ops/conv.h: 4-d input, symmetric padding, a geometry the
// fast path takes); nullopt otherwise.
std::optional<ops::Conv2dParams> kernel_layout_conv_params(OnnxNodeContext& c, const Shape& x, const Shape& weight);


}  // namespace tg::io
