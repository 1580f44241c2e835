// tapegrad/ops/shape.h: shape arithmetic shared by every op: element counts (overflow-checked),
// contiguous strides, dimension wrapping and NumPy broadcasting.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace tg {

using Shape = std::vector<int64_t>;

// A list of dims or sizes as an argument, as LibTorch's IntArrayRef: one number reads as a list
// of one, so x.sum(1), x.view(-1), x.sum({0, 2}) and x.sum(shape) all work (and sum(x, {}) is
// "all dims", never dim 0). It owns a copy, so a temporary is safe.
class IntArrayRef {
 public:
  IntArrayRef(int64_t value) : values_{value} {}                       // NOLINT: implicit on purpose
  IntArrayRef(std::initializer_list<int64_t> values) : values_(values) {}  // NOLINT
  IntArrayRef(const Shape& values) : values_(values) {}                // NOLINT
  operator const Shape&() const { return values_; }                    // NOLINT
  const Shape& vec() const { return values_; }

 private:
  Shape values_;
};

namespace ops {

// Product of the dims; throws if a dim is negative or the product overflows int64.
int64_t shape_numel(const Shape& shape, const char* op = "shape");
// Row-major strides for a contiguous tensor of this shape.
Shape contiguous_strides(const Shape& shape);
// Maps dim in [-ndim, ndim) to [0, ndim); throws naming `op` otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// NumPy broadcast of two shapes; throws "op: shapes [..] and [..] cannot be broadcast".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Resolves one -1 in a reshape target against numel; checks the element count matches.
Shape infer_shape(const Shape& target, int64_t numel, const char* op);

}  // namespace ops
}  // namespace tg
