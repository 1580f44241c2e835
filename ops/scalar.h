// tapegrad/ops/scalar.h: tg::Scalar, a number with its kind (bool, integer or floating), as
// c10::Scalar: `x * 2` and `x * 2.5` differ (an int64 tensor stays int64 in the first, becomes
// float32 in the second), and type promotion over tapegrad's dtypes (bool < int64 < float32 <
// float64), PyTorch's rules: Note [Type promotion].
//   tg::result_type({kInt64, PromotionOperand::kDimensioned}, tg::Scalar(2.5))  // kFloat32
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "ops/dtype.h"

namespace tg {

// Note [Type promotion]: a binary op computes in one dtype, chosen as PyTorch chooses it. Each
// operand is a tensor with dimensions, a zero-dimensional tensor or a C++ number (a "wrapped"
// number: a floating one counts as the default dtype, float32; an integer one as int64). The
// categories order bool < integral < floating. The result is the promotion of the dimensioned
// tensors, unless a zero-dim tensor or a number is of a higher category: then it joins (a
// float64 zero-dim tensor lifts an int64 tensor to float64, but leaves a float32 tensor float32).
// True division promotes integers further to float32; comparisons compute in the promoted dtype
// and give bool.
enum class DTypeCategory { kBool = 0, kIntegral = 1, kFloating = 2 };
DTypeCategory dtype_category(DType dtype);
// The smallest dtype that holds both (the lattice join).
DType promote_types(DType a, DType b);

class Scalar {
 public:
  enum class Kind { kBool, kIntegral, kFloating };
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T value) {  // NOLINT: implicit, like c10::Scalar
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = Kind::kBool;
      int_ = value;
    } else if constexpr (std::is_integral_v<T>) {
      kind_ = Kind::kIntegral;
      int_ = static_cast<int64_t>(value);
    } else {
      kind_ = Kind::kFloating;
    }
    double_ = static_cast<double>(value);
  }
  Kind kind() const { return kind_; }
  bool is_floating() const { return kind_ == Kind::kFloating; }
  double to_double() const { return double_; }
  int64_t to_int() const { return kind_ == Kind::kFloating ? static_cast<int64_t>(double_) : int_; }
  // The dtype a wrapped number counts as in promotion: bool, int64, or the default float32.
  DType wrapped_dtype() const;
  std::string str() const;

 private:
  Kind kind_ = Kind::kIntegral;
  int64_t int_ = 0;
  double double_ = 0;
};

struct PromotionOperand {
  enum Kind { kDimensioned, kZeroDim, kWrappedNumber };
  DType dtype;
  Kind kind;
};

// The dtype a binary op on a and b computes in (Note [Type promotion]).
DType result_type(PromotionOperand a, PromotionOperand b);

}  // namespace tg
