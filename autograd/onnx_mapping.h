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
};

struct OnnxInput {
  OnnxInputForm form = OnnxInputForm::kInput;
  int index = 0;             // for kInput
  const char* attr = nullptr;  // for the attribute forms
};

inline OnnxInput onnx_in(int index) { return {OnnxInputForm::kInput, index, nullptr}; }
inline OnnxInput onnx_attr_in(OnnxInputForm form, const char* attr) { return {form, 0, attr}; }

// One way to write the row as one ONNX node (opset io::kOnnxOpset). A row may list several; the
// exporter takes the first whose `refuse` accepts the node (flatten(1, -1) is Flatten, other
// flattens a Reshape).
struct OnnxMapping {
  const char* op_type = nullptr;
  std::vector<OnnxInput> inputs;  // empty: the row's inputs, in order
  std::vector<OnnxAttr> attrs;
  std::vector<std::pair<const char*, int64_t>> fixed_ints;  // ONNX int attributes with a set value
  // An int64 list input computed from the attributes (flatten's target shape), appended last.
  std::vector<int64_t> (*computed_shape)(const Attrs&) = nullptr;
  // Empty if this mapping can express the node; otherwise why not (checked before export).
  std::string (*refuse)(const Attrs& attrs, const std::vector<bool>& input_present) = nullptr;
};

}  // namespace tg
