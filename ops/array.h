// tapegrad/ops/array.h: the grad-free strided array (shape, strides, offset, dtype over shared
// storage) and its zero-copy views. Users never see this type: tg::Tensor wraps it.
//   Array a = Array::empty({2, 3}, kFloat32);
//   Array t = a.transpose(0, 1);          // shares storage, strides {1, 3}
//   Array c = t.contiguous();             // copies into row-major order
#pragma once

// tapegrad's public headers are C++20 (designated initializers, <span>, three-way comparisons).
#if __cplusplus < 202002L
#error "tapegrad needs C++20: compile with -std=c++20 (or later)"
#endif

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/dtype.h"
#include "ops/shape.h"
#include "ops/storage.h"

namespace tg {

// The order of an array's elements in memory, with LibTorch's names (Note [Channels last] in
// ops/array.cc). ChannelsLast is a 4-d [N, C, H, W] array stored as [N, H, W, C] (strides
// {H*W*C, 1, W*C, C}); Preserve (for contiguous(): keep the array's own format) is never an
// array's format.
enum class MemoryFormat { Contiguous, Preserve, ChannelsLast };
const char* memory_format_name(MemoryFormat format);  // "contiguous", "preserve", "channels_last"

}  // namespace tg

namespace tg::ops {

// The strides of shape stored channels last; shape must be 4-d.
Shape channels_last_strides(const Shape& shape);

class Array {
 public:
  Array() = default;
  Array(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  // Contiguous array with uninitialized contents.
  static Array empty(const Shape& shape, DType dtype);
  static Array empty(const Shape& shape, DType dtype, MemoryFormat format);  // Contiguous or ChannelsLast
  static Array full(const Shape& shape, double value, DType dtype);
  static Array zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
  static Array scalar(double value, DType dtype) { return full({}, value, dtype); }
  template <typename T>
  static Array from_vector(const std::vector<T>& values, const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return numel_; }
  bool is_contiguous() const;
  // Stored in that format (size-1 dims' strides ignored, as by is_contiguous()); ChannelsLast needs 4 dims.
  bool is_contiguous(MemoryFormat format) const;
  // ChannelsLast for a 4-d array stored channels last, else Contiguous. A [N, 1, H, W] array is
  // both; it counts as channels last when its strides are exactly channels_last_strides (what
  // contiguous(ChannelsLast) makes), so the layers after a 1-channel input keep the format.
  MemoryFormat suggest_memory_format() const;
  // Stored contiguously in suggest_memory_format()'s order: the elements fill
  // [data(), data() + numel()), and an elementwise kernel can run over them as one flat range
  // into an empty_like() output.
  bool is_flat() const { return is_contiguous(suggest_memory_format()); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  template <typename T>
  T* data() const {
    T* base = reinterpret_cast<T*>(storage_->data());
    return base == nullptr ? nullptr : base + offset_;  // an empty view (offset past no storage) has no data
  }
  // Address of the first element (offset applied), for byte-level I/O.
  void* raw_data() const {
    char* base = static_cast<char*>(storage_->data());
    return base == nullptr ? nullptr : base + offset_ * dtype_size(dtype_);
  }
  // The value of a one-element array, converted to double.
  double item() const;
  // Element at a multi-index (slow; for printing and tests).
  double at(const Shape& index) const;

  // Views: share storage, never copy.
  Array view(const Shape& shape) const;  // throws if the strides cannot express it
  Array permute(const Shape& dims) const;
  Array transpose(int64_t d0, int64_t d1) const;
  Array slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Array narrow(int64_t dim, int64_t start, int64_t length) const;
  Array expand(const Shape& shape) const;
  Array squeeze() const;
  Array squeeze(int64_t dim) const;
  Array unsqueeze(int64_t dim) const;
  Array as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;

  // View when possible, copy otherwise (like torch.reshape).
  Array reshape(const Shape& shape) const;
  Array flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Array contiguous() const;  // returns *this when already contiguous
  Array contiguous(MemoryFormat format) const;  // *this when already in that format; Preserve: flat
  Array clone() const;       // always a fresh contiguous copy
  Array to(DType dtype) const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;  // in elements
  int64_t numel_ = 0;
  DType dtype_ = DType::kFloat32;
};

// A fresh uninitialized array of x's shape in x's suggested memory format.
Array empty_like(const Array& x, DType dtype);
inline Array empty_like(const Array& x) { return empty_like(x, x.dtype()); }
// x's suggested memory format is ChannelsLast: kernels with a channels-last path take it.
inline bool is_channels_last(const Array& x) { return x.suggest_memory_format() == MemoryFormat::ChannelsLast; }

// Copies src into dst elementwise (any strides; src broadcast to dst's shape; dtypes converted).
void copy_into(const Array& dst, const Array& src);
// copy_into into an existing tensor's memory, counted as a write by `writer` (Note [Version
// counter] in ops/storage.h): for writes that do not go through an in-place op.
void overwrite(const Array& dst, const Array& src, std::string_view writer);

template <typename T>
Array Array::from_vector(const std::vector<T>& values, const Shape& shape) {
  const int64_t n = shape_numel(shape, "from_vector");
  TG_CHECK(n == static_cast<int64_t>(values.size()), "from_vector: ", values.size(),
           " values do not fill shape ", shape_str(shape));
  Array out = empty(shape, dtype_of<T>());
  T* p = out.data<T>();
  for (int64_t i = 0; i < n; ++i) p[i] = values[i];
  return out;
}

}  // namespace tg::ops
