// tapegrad/ops/dtype.h: element types and compile-time dispatch over them.
//   dispatch_floating(dtype, "relu", [&](auto tag) { using T = decltype(tag); ... });
#pragma once

#include <cstdint>
#include <string>

#include "ops/error.h"

namespace tg {

enum class DType : uint8_t { kFloat32 = 0, kFloat64 = 1, kInt64 = 2, kBool = 3 };

constexpr DType kFloat32 = DType::kFloat32;
constexpr DType kFloat64 = DType::kFloat64;
constexpr DType kInt64 = DType::kInt64;
constexpr DType kBool = DType::kBool;

int64_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "float32", "float64", "int64", "bool"
bool is_floating(DType dtype);

template <typename T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

// Calls fn(T{}) for float32/float64; throws naming `op` for other dtypes.
template <typename Fn>
decltype(auto) dispatch_floating(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    default: break;
  }
  throw Error(absl::StrCat(op, ": expected a floating dtype (float32 or float64), got ", dtype_name(dtype)));
}

// Calls fn(T{}) for float32/float64/int64; throws naming `op` for bool.
template <typename Fn>
decltype(auto) dispatch_numeric(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kInt64: return fn(int64_t{});
    default: break;
  }
  throw Error(absl::StrCat(op, ": expected a numeric dtype, got ", dtype_name(dtype)));
}

// Calls fn(T{}) for every dtype.
template <typename Fn>
decltype(auto) dispatch_all(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kInt64: return fn(int64_t{});
    case DType::kBool: return fn(bool{});
  }
  throw Error("dispatch: corrupt dtype");
}

}  // namespace tg
