// tapegrad/ops/scalar.cc: see scalar.h.
#include "ops/scalar.h"

#include "absl/strings/str_cat.h"

namespace tg {

DTypeCategory dtype_category(DType dtype) {
  switch (dtype) {
    case DType::kBool: return DTypeCategory::kBool;
    case DType::kInt64: return DTypeCategory::kIntegral;
    case DType::kFloat32:
    case DType::kFloat64: return DTypeCategory::kFloating;
  }
  throw Error("dtype_category: corrupt dtype");
}

// bool < int64 < float32 < float64 is a chain, so the join is the larger code in this order.
static int promotion_rank(DType d) {
  switch (d) {
    case DType::kBool: return 0;
    case DType::kInt64: return 1;
    case DType::kFloat32: return 2;
    case DType::kFloat64: return 3;
  }
  throw Error("promote_types: corrupt dtype");
}

DType promote_types(DType a, DType b) { return promotion_rank(a) >= promotion_rank(b) ? a : b; }

DType Scalar::wrapped_dtype() const {
  switch (kind_) {
    case Kind::kBool: return kBool;
    case Kind::kIntegral: return kInt64;
    case Kind::kFloating: return kFloat32;
  }
  return kFloat32;
}

std::string Scalar::str() const {
  switch (kind_) {
    case Kind::kBool: return int_ ? "true" : "false";
    case Kind::kIntegral: return absl::StrCat(int_);
    case Kind::kFloating: return absl::StrCat(double_);
  }
  return "?";
}

namespace {

// One operand class's running result: unset until an operand of that class is seen.
struct Slot {
  bool set = false;
  DType dtype = kBool;
  void add(DType d) {
    dtype = set ? promote_types(dtype, d) : d;
    set = true;
  }
};

// c10's combine_categories: the higher-priority class wins unless the lower is of a higher
// category (then the two promote).
Slot combine(Slot higher, Slot lower) {
  if (!higher.set) return lower;
  if (!lower.set) return higher;
  if (dtype_category(higher.dtype) == DTypeCategory::kFloating) return higher;
  if (higher.dtype == kBool || dtype_category(lower.dtype) == DTypeCategory::kFloating) {
    return {true, promote_types(higher.dtype, lower.dtype)};
  }
  return higher;
}

}  // namespace

DType result_type(PromotionOperand a, PromotionOperand b) {
  Slot dimensioned, zero_dim, wrapped;
  for (const PromotionOperand& o : {a, b}) {
    switch (o.kind) {
      case PromotionOperand::kDimensioned: dimensioned.add(o.dtype); break;
      case PromotionOperand::kZeroDim: zero_dim.add(o.dtype); break;
      case PromotionOperand::kWrappedNumber: wrapped.add(o.dtype); break;
    }
  }
  return combine(dimensioned, combine(zero_dim, wrapped)).dtype;
}

}  // namespace tg
