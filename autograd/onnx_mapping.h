// tapegrad/autograd/onnx_mapping.h: how an op row maps to an ONNX node, as data the row carries
// (OpDef::onnx), so that the exporter (io/onnx_export.cc) and a future importer read the same
// entry: every rule below is a plain renaming or an invertible re-encoding of one attribute or
// input. This header knows nothing of ONNX's protobufs (autograd sits below io/).
//   .onnx = {{.op_type = "Conv",
//             .attrs = {{"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
//                       {"dilations", "dilation"}, {"group", "groups"}}}},
// A row with no ONNX counterpart says why instead: .not_onnx = "backward-only row (adjoint of conv2d)".
// The coverage test (io/onnx_ops_test.cc) fails for a row with neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/attributes.h"

namespace tg {

// How a tapegrad attribute becomes an ONNX attribute of the same meaning.
enum class OnnxAttrForm {
  kSame,       // same value and type (int, float, int list; a bool becomes an int 0/1; an empty
               // int list is left out: ONNX's default, "all axes")
  kIntToList,  // int v <-> int list [v] (max_dim's dim <-> ReduceMax's axes)
  kPads2d,     // [h, w] symmetric padding <-> ONNX [h_begin, w_begin, h_end, w_end]
  kOneMinus,   // float v <-> 1 - v (batch norm momentum: PyTorch weights the new value, ONNX the old)
  kDtype,      // tapegrad DType code <-> ONNX TensorProto element type
};

struct OnnxAttr {
  const char* onnx;  // ONNX attribute name
  const char* tg;    // the row's attribute name
  OnnxAttrForm form = OnnxAttrForm::kSame;
  // What an absent optional attribute means to the row, written as this int; unset: the
  // attribute is left out (the row's default is ONNX's).
  std::optional<int64_t> if_absent = std::nullopt;
};

// How one ONNX input of the node is fed: one of the row's inputs, or one of its attributes written
// as a constant initializer (ONNX moved several attributes to inputs: Clip's bounds, Reshape's
// shape, ReduceSum's axes, Slice's bounds, Dropout's ratio).
enum class OnnxInputForm {
  kInput,           // the row's input `index` ("" if that optional input is absent)
  kScalar,          // float attribute -> 0-d tensor of input 0's dtype ("" if the attribute is absent)
  kBoolScalar,      // bool attribute -> 0-d bool tensor
  kInt64List,       // int list attribute -> 1-d int64 tensor
  kInt64ListOrNone, // as kInt64List, but an empty list means "no input" (ReduceSum: all axes)
  kInt64One,        // int attribute -> 1-d int64 tensor of one element (Slice's starts, axes...)
  kStep,            // the output of step `index` of a multi-step mapping (OnnxMapping::steps)
  kConstant,        // the number `value` as a 0-d tensor of input 0's dtype
};

struct OnnxInput {
  OnnxInputForm form = OnnxInputForm::kInput;
  int index = 0;             // for kInput and kStep
  const char* attr = nullptr;  // for the attribute forms
  double value = 0;          // for kConstant
  int output = 0;            // for kStep: which output of a step with several (Split's k-th part)
};

inline OnnxInput onnx_in(int index) { return {OnnxInputForm::kInput, index, nullptr}; }
inline OnnxInput onnx_attr_in(OnnxInputForm form, const char* attr) { return {form, 0, attr}; }
inline OnnxInput onnx_step(int step, int output = 0) { return {OnnxInputForm::kStep, step, nullptr, 0, output}; }
inline OnnxInput onnx_constant(double value) { return {OnnxInputForm::kConstant, 0, nullptr, value}; }

// Which element types of input 0 a mapping can express (ONNX's Div truncates integers, so a
// floor division of integers needs another form than of floats).
enum class OnnxInputClass { kAny, kFloating, kIntegral };

// One way to write the row as one ONNX node (opset io::kOnnxOpset). A row may list several; the
// exporter takes the first whose `refuse` accepts the node (flatten(1, -1) is Flatten, other
// flattens a Reshape).
struct OnnxMapping {
  const char* op_type = nullptr;
  std::vector<OnnxInput> inputs;  // empty: the row's inputs, in order
  std::vector<OnnxAttr> attrs;
  std::vector<std::pair<const char*, int64_t>> fixed_ints;  // ONNX int attributes with a set value
  std::vector<std::pair<const char*, double>> fixed_floats;  // ONNX float attributes with a set value
  std::vector<std::pair<const char*, const char*>> fixed_strings;  // ONNX string attributes with a set value
  // An int64 list input computed from the attributes (flatten's target shape), appended last.
  std::vector<int64_t> (*computed_shape)(const Attrs&) = nullptr;
  // Empty if this mapping can express the node; otherwise why not (checked before export).
  std::string (*refuse)(const Attrs& attrs, const std::vector<bool>& input_present) = nullptr;
  OnnxInputClass input_class = OnnxInputClass::kAny;
  // ONNX outputs after the first that the row does not return (TopK's indices): written under
  // names nothing reads, or, in a step of a chain, read by later steps (onnx_step(k, output)).
  int unused_outputs = 0;
  // A row written as a chain of ONNX nodes (log1p is Log(Add(x, 1))): when set, op_type is only
  // a label and the steps are written in order, each one node whose inputs name the row's inputs
  // (onnx_in), earlier steps' outputs (onnx_step) or constants; the last step's output is the
  // row's. The mapping's refuse and input_class apply to the whole chain.
  std::vector<OnnxMapping> steps;
};

// A chain of single-input ONNX ops applied to input 0 in turn (rsqrt: Sqrt then Reciprocal).
inline std::vector<OnnxMapping> onnx_chain(std::initializer_list<const char*> op_types) {
  std::vector<OnnxMapping> steps;
  for (const char* t : op_types) {
    const int k = static_cast<int>(steps.size());
    steps.push_back({.op_type = t, .inputs = {k == 0 ? onnx_in(0) : onnx_step(k - 1)}});
  }
  return steps;
}

}  // namespace tg
