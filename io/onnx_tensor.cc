// tapegrad/io/onnx_tensor.cc: decoding ONNX tensors (raw_data or the typed repeated fields).
#include "io/onnx_tensor.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tg::io {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ONNX raw_data is little-endian");

namespace {

using onnx::TensorProto;

// Bytes per element as stored in raw_data; 0 for types tapegrad refuses.
int stored_size(int elem_type) {
  switch (elem_type) {
    case TensorProto::FLOAT: return 4;
    case TensorProto::DOUBLE: return 8;
    case TensorProto::INT64: return 8;
    case TensorProto::INT32: return 4;
    case TensorProto::UINT32: return 4;
    case TensorProto::INT16: return 2;
    case TensorProto::UINT16: return 2;
    case TensorProto::INT8: return 1;
    case TensorProto::UINT8: return 1;
    case TensorProto::BOOL: return 1;
    default: return 0;
  }
}

// Element i of a little-endian raw buffer of `elem_type`, as int64 (integer types only).
int64_t raw_int(const char* p, int elem_type, int64_t i) {
  switch (elem_type) {
    case TensorProto::INT32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case TensorProto::UINT32: { uint32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case TensorProto::INT16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case TensorProto::UINT16: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case TensorProto::INT8: return static_cast<int8_t>(p[i]);
    case TensorProto::UINT8: return static_cast<uint8_t>(p[i]);
    default: { int64_t v; std::memcpy(&v, p + 8 * i, 8); return v; }
  }
}

}  // namespace

std::string onnx_type_name(int elem_type) {
  if (TensorProto::DataType_IsValid(elem_type)) return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(elem_type));
  return absl::StrCat("type ", elem_type);
}

absl::StatusOr<DType> dtype_from_onnx(int elem_type, const std::string& field) {
  switch (elem_type) {
    case TensorProto::FLOAT: return kFloat32;
    case TensorProto::DOUBLE: return kFloat64;
    case TensorProto::BOOL: return kBool;
    case TensorProto::INT64:
    case TensorProto::INT32:
    case TensorProto::UINT32:
    case TensorProto::INT16:
    case TensorProto::UINT16:
    case TensorProto::INT8:
    case TensorProto::UINT8: return kInt64;
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": element type ", onnx_type_name(elem_type),
                                                 " is not supported (float, double, bool and integers up to 32 bits "
                                                 "or int64 are)"));
}

absl::StatusOr<Tensor> tensor_from_onnx(const TensorProto& t, const std::string& field, int64_t max_bytes) {
  const std::string where = t.name().empty() ? field : absl::StrCat(field, " '", t.name(), "'");
  auto fail = [&](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat(where, ": ", what)); };
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0) {
    return fail("external data is not supported (save the model with its weights inside the file)");
  }
  if (t.has_segment()) return fail("segmented tensors are not supported");
  auto dtype = dtype_from_onnx(t.data_type(), where);
  if (!dtype.ok()) return dtype.status();
  Shape shape;
  int64_t numel = 1;
  for (int i = 0; i < t.dims_size(); ++i) {
    const int64_t d = t.dims(i);
    if (d < 0) return fail(absl::StrCat("dims[", i, "] is negative (", d, ")"));
    if (__builtin_mul_overflow(numel, d, &numel) || numel > max_bytes / 8) {
      return fail(absl::StrCat("dims give more than ", max_bytes, " bytes"));
    }
    shape.push_back(d);
  }
  const int type = t.data_type();
  ops::Array a = ops::Array::empty(shape, *dtype);
  auto count_error = [&](const char* source, int64_t have) {
    return fail(absl::StrCat(source, " holds ", have, " elements, dims ", shape_str(shape), " need ", numel));
  };
  if (!t.raw_data().empty() || numel == 0) {
    const int64_t need = numel * stored_size(type);
    if (static_cast<int64_t>(t.raw_data().size()) != need) {
      return fail(absl::StrCat("raw_data holds ", t.raw_data().size(), " bytes, dims ", shape_str(shape), " of ",
                               onnx_type_name(type), " need ", need));
    }
    const char* p = t.raw_data().data();
    if (*dtype == kFloat32 || *dtype == kFloat64) {
      if (need > 0) std::memcpy(a.raw_data(), p, need);
    } else if (*dtype == kBool) {
      for (int64_t i = 0; i < numel; ++i) {
        if (static_cast<uint8_t>(p[i]) > 1) return fail(absl::StrCat("bool byte ", int(uint8_t(p[i])), " at element ", i));
      }
      if (need > 0) std::memcpy(a.raw_data(), p, need);
    } else {
      int64_t* out = a.data<int64_t>();
      for (int64_t i = 0; i < numel; ++i) out[i] = raw_int(p, type, i);
    }
    return Tensor(a);
  }
  // Typed fields: float_data (FLOAT), double_data, int64_data, int32_data (all narrower ints and bool).
  switch (type) {
    case TensorProto::FLOAT:
      if (t.float_data_size() != numel) return count_error("float_data", t.float_data_size());
      std::memcpy(a.raw_data(), t.float_data().data(), numel * 4);
      break;
    case TensorProto::DOUBLE:
      if (t.double_data_size() != numel) return count_error("double_data", t.double_data_size());
      std::memcpy(a.raw_data(), t.double_data().data(), numel * 8);
      break;
    case TensorProto::INT64:
      if (t.int64_data_size() != numel) return count_error("int64_data", t.int64_data_size());
      std::memcpy(a.raw_data(), t.int64_data().data(), numel * 8);
      break;
    case TensorProto::UINT32:
      if (t.uint64_data_size() != numel) return count_error("uint64_data", t.uint64_data_size());
      for (int64_t i = 0; i < numel; ++i) a.data<int64_t>()[i] = static_cast<int64_t>(t.uint64_data(i) & 0xffffffffu);
      break;
    case TensorProto::BOOL:
      if (t.int32_data_size() != numel) return count_error("int32_data", t.int32_data_size());
      for (int64_t i = 0; i < numel; ++i) {
        if (t.int32_data(i) != 0 && t.int32_data(i) != 1) return fail(absl::StrCat("bool value ", t.int32_data(i), " at element ", i));
        a.data<bool>()[i] = t.int32_data(i) != 0;
      }
      break;
    default:  // int8..int32, uint8, uint16: int32_data
      if (t.int32_data_size() != numel) return count_error("int32_data", t.int32_data_size());
      for (int64_t i = 0; i < numel; ++i) a.data<int64_t>()[i] = t.int32_data(i);
      break;
  }
  return Tensor(a);
}

TensorProto tensor_to_onnx(const Tensor& t, const std::string& name) {
  TensorProto o;
  o.set_name(name);
  switch (t.dtype()) {
    case kFloat32: o.set_data_type(TensorProto::FLOAT); break;
    case kFloat64: o.set_data_type(TensorProto::DOUBLE); break;
    case kInt64: o.set_data_type(TensorProto::INT64); break;
    case kBool: o.set_data_type(TensorProto::BOOL); break;
  }
  for (int64_t d : t.shape()) o.add_dims(d);
  const ops::Array c = t.data().contiguous();
  o.set_raw_data(std::string(static_cast<const char*>(c.raw_data()), c.numel() * dtype_size(c.dtype())));
  return o;
}

}  // namespace tg::io
