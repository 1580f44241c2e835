// tapegrad/io/tensor_proto.cc: tensor encoding (little-endian raw bytes, row-major).
#include "io/tensor_proto.h"

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"

namespace tg::io {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw tensor bytes are written in host order");

namespace {
// Larger tensors are refused on load: no single real tensor comes near this, and a corrupt shape
// must not trigger a huge allocation.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 34;  // 16 GiB
}  // namespace

proto::DataType to_proto(DType dtype) {
  switch (dtype) {
    case kFloat32: return proto::FLOAT32;
    case kFloat64: return proto::FLOAT64;
    case kInt64: return proto::INT64;
    case kBool: return proto::BOOL;
  }
  return proto::DATA_TYPE_UNSPECIFIED;
}

absl::StatusOr<DType> from_proto(proto::DataType dtype, const std::string& field) {
  switch (dtype) {
    case proto::FLOAT32: return kFloat32;
    case proto::FLOAT64: return kFloat64;
    case proto::INT64: return kInt64;
    case proto::BOOL: return kBool;
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ".dtype: unknown data type ", static_cast<int>(dtype)));
}

proto::TensorProto to_proto(const Tensor& t) {
  proto::TensorProto p;
  p.set_dtype(to_proto(t.dtype()));
  for (int64_t d : t.shape()) p.add_shape(d);
  const ops::Array c = t.data().contiguous();
  p.set_raw_data(std::string(static_cast<const char*>(c.raw_data()), c.numel() * dtype_size(c.dtype())));
  return p;
}

absl::StatusOr<Tensor> from_proto(const proto::TensorProto& p, const std::string& field) {
  auto dtype = from_proto(p.dtype(), field);
  if (!dtype.ok()) return dtype.status();
  Shape shape;
  int64_t numel = 1;
  for (int i = 0; i < p.shape_size(); ++i) {
    const int64_t d = p.shape(i);
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat(field, ".shape[", i, "]: negative dimension ", d));
    if (__builtin_mul_overflow(numel, d, &numel) || numel > kMaxTensorBytes) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".shape: too many elements"));
    }
    shape.push_back(d);
  }
  const int64_t bytes = numel * dtype_size(*dtype);
  if (static_cast<int64_t>(p.raw_data().size()) != bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".raw_data: ", p.raw_data().size(), " bytes, but shape ",
                                                   shape_str(shape), " of ", dtype_name(*dtype), " needs ", bytes));
  }
  ops::Array a = ops::Array::empty(shape, *dtype);
  if (bytes > 0) std::memcpy(a.raw_data(), p.raw_data().data(), bytes);
  if (*dtype == kBool) {
    for (int64_t i = 0; i < numel; ++i) {
      const uint8_t v = static_cast<uint8_t>(p.raw_data()[i]);
      if (v > 1) return absl::InvalidArgumentError(absl::StrCat(field, ".raw_data: bool byte ", int(v), " at ", i));
    }
  }
  return Tensor(a);
}

void to_proto(const std::map<std::string, Tensor>& tensors, google::protobuf::RepeatedPtrField<proto::NamedTensor>* out) {
  to_proto(NamedTensorList(tensors.begin(), tensors.end()), out);
}

void to_proto(const NamedTensorList& tensors, google::protobuf::RepeatedPtrField<proto::NamedTensor>* out) {
  for (const auto& [name, t] : tensors) {
    proto::NamedTensor* n = out->Add();
    n->set_name(name);
    *n->mutable_tensor() = to_proto(t);
  }
}

absl::StatusOr<NamedTensorList> from_proto(const google::protobuf::RepeatedPtrField<proto::NamedTensor>& named,
                                           const std::string& field) {
  NamedTensorList out;
  std::set<std::string> seen;
  for (int i = 0; i < named.size(); ++i) {
    const std::string where = absl::StrCat(field, "[", i, "] (", named[i].name(), ")");
    if (named[i].name().empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty name"));
    if (!seen.insert(named[i].name()).second) return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate name"));
    auto t = from_proto(named[i].tensor(), where);
    if (!t.ok()) return t.status();
    out.emplace_back(named[i].name(), *t);
  }
  return out;
}

}  // namespace tg::io
