// tapegrad/io/onnx_converters.cc: the converter registry and the attribute/input accessors.
#include "io/onnx_converters.h"


#include <cmath>

#include "absl/strings/str_cat.h"
#include "io/onnx_tensor.h"

namespace tg::io {

namespace {

std::multimap<std::string, OnnxConverter>& registry() {
  static auto* r = new std::multimap<std::string, OnnxConverter>();
  return *r;
}

const char* attr_type_name(int type) {
  switch (type) {
    case onnx::AttributeProto::INT: return "INT";
    case onnx::AttributeProto::FLOAT: return "FLOAT";
    case onnx::AttributeProto::STRING: return "STRING";
    case onnx::AttributeProto::INTS: return "INTS";
    case onnx::AttributeProto::FLOATS: return "FLOATS";
    case onnx::AttributeProto::TENSOR: return "TENSOR";
    case onnx::AttributeProto::STRINGS: return "STRINGS";
    default: return "another type";
  }
}

}  // namespace

bool register_onnx_converters(std::vector<OnnxConverter> converters) {
  for (OnnxConverter& c : converters) registry().emplace(c.op_type, std::move(c));
  return true;
}

const OnnxConverter* find_onnx_converter(const std::string& op_type, int opset) {
  auto [begin, end] = registry().equal_range(op_type);
  for (auto it = begin; it != end; ++it) {
    if (opset >= it->second.min_opset && opset <= it->second.max_opset) return &it->second;
  }
  return nullptr;
}

std::vector<std::string> onnx_converter_op_types() {
  std::vector<std::string> types;
  for (const auto& [name, c] : registry()) {
    if (types.empty() || types.back() != name) types.push_back(name);
  }
  return types;
}

OnnxNodeContext::OnnxNodeContext(const onnx::NodeProto& node, const std::vector<Tensor>& inputs, int opset,
                                 int num_outputs, bool training)
    : node_(node), inputs_(inputs), opset_(opset), num_outputs_(num_outputs), training_(training) {
  for (const onnx::AttributeProto& a : node.attribute()) attrs_[a.name()] = &a;
}

const Tensor& OnnxNodeContext::in(int i) const {
  TG_CHECK(has_in(i), "input ", i, " is required");
  return inputs_[i];
}

std::vector<int64_t> OnnxNodeContext::int_values(int i) const {
  const Tensor& x = in(i);
  TG_CHECK(x.dtype() == kInt64 && x.dim() <= 1, "input ", i, " must be a 1-d integer tensor, is ",
           dtype_name(x.dtype()), " ", shape_str(x.shape()));
  return x.to_vector<int64_t>();
}

double OnnxNodeContext::scalar_value(int i) const {
  const Tensor& x = in(i);
  TG_CHECK(x.numel() == 1, "input ", i, " must hold one value, has shape ", shape_str(x.shape()));
  return x.data().item();
}

int64_t OnnxNodeContext::int_scalar(int i) const {
  const Tensor& x = in(i);
  TG_CHECK(x.numel() == 1, "input ", i, " must hold one value, has shape ", shape_str(x.shape()));
  if (x.dtype() == kInt64) return x.reshape({1}).to_vector<int64_t>()[0];
  const double v = x.data().item();
  TG_CHECK(std::isfinite(v) && std::fabs(v) <= 9007199254740992.0 && v == std::floor(v), "input ", i, ": ", v,
           " is not an integer");
  return static_cast<int64_t>(v);
}

const onnx::AttributeProto& OnnxNodeContext::attr(const std::string& name, int type) const {
  const onnx::AttributeProto& a = *attrs_.at(name);
  // Old writers leave `type` unset; the field that is filled in tells.
  int actual = a.type();
  if (actual == onnx::AttributeProto::UNDEFINED) {
    if (a.ints_size()) actual = onnx::AttributeProto::INTS;
    else if (a.strings_size()) actual = onnx::AttributeProto::STRINGS;
    else if (a.floats_size()) actual = onnx::AttributeProto::FLOATS;
    else if (a.has_t()) actual = onnx::AttributeProto::TENSOR;
    else if (a.has_s()) actual = onnx::AttributeProto::STRING;
    else if (a.has_f()) actual = onnx::AttributeProto::FLOAT;
    else actual = onnx::AttributeProto::INT;
  }
  const bool empty_list_ok = (type == onnx::AttributeProto::INTS || type == onnx::AttributeProto::FLOATS) &&
                             (actual == onnx::AttributeProto::INTS || actual == onnx::AttributeProto::FLOATS) &&
                             a.ints_size() == 0 && a.floats_size() == 0;
  TG_CHECK(actual == type || empty_list_ok, "attribute '", name, "' must be ", attr_type_name(type), ", is ",
           attr_type_name(actual));
  return a;
}

int64_t OnnxNodeContext::i(const std::string& name, std::optional<int64_t> fallback) const {
  if (!has(name)) {
    TG_CHECK(fallback.has_value(), "attribute '", name, "' is required");
    return *fallback;
  }
  return attr(name, onnx::AttributeProto::INT).i();
}

double OnnxNodeContext::f(const std::string& name, std::optional<double> fallback) const {
  if (!has(name)) {
    TG_CHECK(fallback.has_value(), "attribute '", name, "' is required");
    return *fallback;
  }
  return attr(name, onnx::AttributeProto::FLOAT).f();
}

std::string OnnxNodeContext::s(const std::string& name, std::optional<std::string> fallback) const {
  if (!has(name)) {
    TG_CHECK(fallback.has_value(), "attribute '", name, "' is required");
    return *fallback;
  }
  return attr(name, onnx::AttributeProto::STRING).s();
}

std::vector<int64_t> OnnxNodeContext::ints(const std::string& name, std::optional<std::vector<int64_t>> fallback) const {
  if (!has(name)) {
    TG_CHECK(fallback.has_value(), "attribute '", name, "' is required");
    return *fallback;
  }
  const auto& a = attr(name, onnx::AttributeProto::INTS);
  return std::vector<int64_t>(a.ints().begin(), a.ints().end());
}

std::vector<double> OnnxNodeContext::floats(const std::string& name) const {
  TG_CHECK(has(name), "attribute '", name, "' is required");
  const auto& a = attr(name, onnx::AttributeProto::FLOATS);
  return std::vector<double>(a.floats().begin(), a.floats().end());
}

std::vector<std::string> OnnxNodeContext::strings(const std::string& name) const {
  TG_CHECK(has(name), "attribute '", name, "' is required");
  const auto& a = attr(name, onnx::AttributeProto::STRINGS);
  return std::vector<std::string>(a.strings().begin(), a.strings().end());
}

Tensor OnnxNodeContext::t(const std::string& name) const {
  TG_CHECK(has(name), "attribute '", name, "' is required");
  auto value = tensor_from_onnx(attr(name, onnx::AttributeProto::TENSOR).t(), absl::StrCat("attribute '", name, "'"));
  TG_CHECK(value.ok(), value.status().message());
  return *value;
}

int64_t OnnxNodeContext::axis(int64_t a, int64_t rank, const char* what) const {
  TG_CHECK(a >= -rank && a < rank, what, " ", a, " is out of range for rank ", rank);
  return a < 0 ? a + rank : a;
}

}  // namespace tg::io
