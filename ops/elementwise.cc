// tapegrad/ops/elementwise.cc: elementwise kernels (see elementwise.h).
#include "ops/elementwise.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/internal/elementwise_math.h"
#include "ops/internal/strided_loop.h"
#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

// a and b hold their elements in one flat order (Array::is_flat): a kernel can run over both, and
// an empty_like(a) output, as flat ranges.
bool same_flat_order(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.is_flat() && b.is_contiguous(a.suggest_memory_format());
}

// Applies out[i] = f(x[i]) over any strides of x into a fresh array of dtype out_dtype, in x's
// memory format when x is flat (Note [Channels last]), else contiguous.
template <typename T, typename R, typename F>
Array map_unary(const Array& x, DType out_dtype, F f) {
  const bool flat = x.is_flat();
  Array out = flat ? empty_like(x, out_dtype) : Array::empty(x.shape(), out_dtype);
  const T* xp = x.data<T>();
  R* op = out.data<R>();
  const int64_t n = x.numel();
  if (flat) {
    if (n >= internal::kParallelGrain) {
      refresh_team_size();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) op[i] = f(xp[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) op[i] = f(xp[i]);
    }
    return out;
  }
  const Shape& os = out.strides();
  const Shape& xs = x.strides();
  internal::for_each_row<2>(x.shape(), {&os, &xs}, [&](auto off, int64_t len) {
    const int64_t step = x.dim() ? xs.back() : 1;
    for (int64_t i = 0; i < len; ++i) op[off[0] + i] = f(xp[off[1] + i * step]);
  });
  return out;
}

// out[i] = f(a[i], b[i]) with broadcasting into a fresh array: in a's memory format when a and b
// share a flat order, else contiguous.
template <typename T, typename R, typename F>
Array map_binary(const Array& a, const Array& b, DType out_dtype, const char* op_name, F f) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op_name);
  const bool flat = same_flat_order(a, b);
  Array out = flat ? empty_like(a, out_dtype) : Array::empty(shape, out_dtype);
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  R* op = out.data<R>();
  const int64_t n = out.numel();
  if (flat) {
    if (n >= internal::kParallelGrain) {
      refresh_team_size();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bp[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) op[i] = f(ap[i], bp[i]);
    }
    return out;
  }
  const Shape as = internal::broadcast_strides(a.shape(), a.strides(), shape);
  const Shape bs = internal::broadcast_strides(b.shape(), b.strides(), shape);
  const Shape& os = out.strides();
  internal::for_each_row<3>(shape, {&os, &as, &bs}, [&](auto off, int64_t len) {
    const int64_t sa = shape.empty() ? 0 : as.back(), sb = shape.empty() ? 0 : bs.back();
    const T* pa = ap + off[1];
    const T* pb = bp + off[2];
    R* po = op + off[0];
    // The common inner forms as loops the compiler vectorizes: both operands along the row, or
    // one of them fixed over it (a bias, a scalar).
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < len; ++i) po[i] = f(pa[i], pb[i]);
    } else if (sa == 1 && sb == 0) {
      const T y = *pb;
      for (int64_t i = 0; i < len; ++i) po[i] = f(pa[i], y);
    } else if (sa == 0 && sb == 1) {
      const T x = *pa;
      for (int64_t i = 0; i < len; ++i) po[i] = f(x, pb[i]);
    } else {
      for (int64_t i = 0; i < len; ++i) po[i] = f(pa[i * sa], pb[i * sb]);
    }
  });
  return out;
}

void check_same_dtype(const Array& a, const Array& b, const char* op) {
  TG_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch ", dtype_name(a.dtype()), " ", shape_str(a.shape()),
           " vs ", dtype_name(b.dtype()), " ", shape_str(b.shape()));
}

// Helpers of the op lists' expressions (internal/elementwise_math.h).
// The op lists' expressions call the helpers by their plain names.
using namespace internal;  // NOLINT(build/namespaces): elementwise_math.h only

// out = op(x) / op(a, b) for float arrays of one flat order: the per-ISA vector kernels.
template <typename T>
Array vector_unary(UnaryOp op, const Array& x) {
  Array out = empty_like(x);
  const T* xp = x.data<T>();
  T* o = out.data<T>();
  const auto kernel = internal::vector_kernels<T>().unary;
  parallel_chunks(x.numel(), internal::kParallelGrain, [&](int64_t begin, int64_t end) {
    kernel(op, xp + begin, o + begin, end - begin);
  });
  return out;
}
template <typename T>
Array vector_binary(BinaryOp op, const Array& a, const Array& b) {
  Array out = empty_like(a);
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  T* o = out.data<T>();
  const auto kernel = internal::vector_kernels<T>().binary;
  parallel_chunks(a.numel(), internal::kParallelGrain, [&](int64_t begin, int64_t end) {
    kernel(op, ap + begin, bp + begin, o + begin, end - begin);
  });
  return out;
}

enum class DtypeClass { kNumeric, kFloating };

// Runs body(tag) for x's dtype if it is in the class, else throws naming the op.
template <DtypeClass kClass, typename Body>
Array dispatch_class(DType dtype, const char* name, Body body) {
  if constexpr (kClass == DtypeClass::kNumeric) {
    return dispatch_numeric(dtype, name, body);
  } else {
    return dispatch_floating(dtype, name, body);
  }
}

template <DtypeClass kClass, typename F>
Array run_unary(const Array& x, const char* name, F f) {
  return dispatch_class<kClass>(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

template <DtypeClass kClass, typename F>
Array run_binary(const Array& a, const Array& b, const char* name, F f) {
  return dispatch_class<kClass>(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T>(a, b, a.dtype(), name, [f](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

// Integer division by zero is refused before the (possibly parallel) loop: an exception must not
// leave an OpenMP region.
void check_integer_divisor(const Array& b, const char* op) {
  if (is_floating(b.dtype())) return;
  dispatch_numeric(b.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const Array bc = b.contiguous();
    for (int64_t i = 0; i < bc.numel(); ++i) TG_CHECK(bc.data<T>()[i] != 0, op, ": integer division by zero");
    return 0;
  });
}

}  // namespace

#define TG_NAME_CASE(Enum, Name, str, ...) \
  case Enum::k##Name:                      \
    return str;
const char* unary_op_name(UnaryOp op) {
  switch (op) {
#define TG_CASE(...) TG_NAME_CASE(UnaryOp, __VA_ARGS__)
    TG_UNARY_OPS(TG_CASE)
#undef TG_CASE
  }
  return "unary(invalid)";  // an out-of-range enum value, never a listed op
}
const char* binary_op_name(BinaryOp op) {
  switch (op) {
#define TG_CASE(...) TG_NAME_CASE(BinaryOp, __VA_ARGS__)
    TG_BINARY_OPS(TG_CASE)
#undef TG_CASE
  }
  return "binary(invalid)";
}
const char* compare_op_name(CompareOp op) {
  switch (op) {
#define TG_CASE(...) TG_NAME_CASE(CompareOp, __VA_ARGS__)
    TG_COMPARE_OPS(TG_CASE)
#undef TG_CASE
  }
  return "compare(invalid)";
}
#undef TG_NAME_CASE

Array unary(UnaryOp op, const Array& x) {
  // Floating views (an LSTM's gate chunks, a transpose) are copied to run the vector kernels too:
  // the copy is cheap next to a scalar transcendental, and every layout gets the same values.
  if (x.dtype() == kFloat32) return vector_unary<float>(op, x.contiguous(MemoryFormat::Preserve));
  if (x.dtype() == kFloat64) return vector_unary<double>(op, x.contiguous(MemoryFormat::Preserve));
  switch (op) {
#define TG_CASE(Name, str, dtype_class, expr)                                 \
  case UnaryOp::k##Name:                                                      \
    return run_unary<DtypeClass::dtype_class>(x, str, [](auto v) {           \
      using T [[maybe_unused]] = decltype(v);                                 \
      return expr;                                                            \
    });
    TG_UNARY_OPS(TG_CASE)
#undef TG_CASE
  }
  TG_CHECK(false, "unary: invalid op ", static_cast<int>(op));
  return Array();
}

Array binary(BinaryOp op, const Array& a, const Array& b) {
  const char* name = binary_op_name(op);
  check_same_dtype(a, b, name);
  if (op == BinaryOp::kDiv || op == BinaryOp::kFmod || op == BinaryOp::kRemainder || op == BinaryOp::kFloorDivide)
    check_integer_divisor(b, name);
  if (same_flat_order(a, b)) {
    if (a.dtype() == kFloat32) return vector_binary<float>(op, a, b);
    if (a.dtype() == kFloat64) return vector_binary<double>(op, a, b);
  }
  switch (op) {
#define TG_CASE(Name, str, dtype_class, expr)                                      \
  case BinaryOp::k##Name:                                                          \
    return run_binary<DtypeClass::dtype_class>(a, b, str, [](auto a, auto b) {    \
      using T [[maybe_unused]] = decltype(a);                                      \
      return expr;                                                                 \
    });
    TG_BINARY_OPS(TG_CASE)
#undef TG_CASE
  }
  TG_CHECK(false, "binary: invalid op ", static_cast<int>(op));
  return Array();
}

const char* parametric_unary_op_name(ParametricUnaryOp op) {
  switch (op) {
#define TG_CASE(Name, str, expr) \
  case ParametricUnaryOp::k##Name: return str;
    TG_PARAMETRIC_UNARY_OPS(TG_CASE)
#undef TG_CASE
  }
  return "parametric_unary(invalid)";
}

Array parametric_unary(ParametricUnaryOp op, const Array& x, double p_value, double q_value) {
  return dispatch_floating(x.dtype(), parametric_unary_op_name(op), [&](auto tag) -> Array {
    using T = decltype(tag);
    const T p = static_cast<T>(p_value), q = static_cast<T>(q_value);
    switch (op) {
#define TG_CASE(Name, str, expr) \
  case ParametricUnaryOp::k##Name: \
    return map_unary<T, T>(x, x.dtype(), [p, q](T v) { (void)p, (void)q; return static_cast<T>(expr); });
      TG_PARAMETRIC_UNARY_OPS(TG_CASE)
#undef TG_CASE
    }
    TG_CHECK(false, "parametric_unary: invalid op ", static_cast<int>(op));
    return Array();
  });
}

Array compare(CompareOp op, const Array& a_in, const Array& b_in) {
  const char* name = compare_op_name(op);
  check_same_dtype(a_in, b_in, name);
  return dispatch_all(a_in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    switch (op) {
#define TG_CASE(Name, str, expr) \
  case CompareOp::k##Name:       \
    return map_binary<T, bool>(a_in, b_in, kBool, str, [](T a, T b) { return expr; });
      TG_COMPARE_OPS(TG_CASE)
#undef TG_CASE
    }
    TG_CHECK(false, "compare: invalid op ", static_cast<int>(op));
    return Array();
  });
}

Array leaky_relu(const Array& x, double slope) {
  return dispatch_floating(x.dtype(), "leaky_relu", [&](auto tag) {
    using T = decltype(tag);
    const T s = static_cast<T>(slope);
    return map_unary<T, T>(x, x.dtype(), [s](T v) { return v > 0 ? v : v * s; });
  });
}

Array leaky_relu_slope(const Array& x, double slope) {
  return dispatch_floating(x.dtype(), "leaky_relu", [&](auto tag) {
    using T = decltype(tag);
    const T s = static_cast<T>(slope);
    return map_unary<T, T>(x, x.dtype(), [s](T v) { return v > 0 ? T(1) : s; });
  });
}

namespace {

// clamp's bounds in the tensor's type. Integer bounds are the smallest/largest integer inside
// the bound, saturated: an infinite or huge bound is no bound at all (converting it would be
// undefined behaviour).
template <typename T>
struct ClampBounds {
  bool has_lo;
  T lo;
  bool has_hi;
  T hi;
};

template <typename T>
ClampBounds<T> clamp_bounds(std::optional<double> min, std::optional<double> max) {
  bool has_lo = min.has_value(), has_hi = max.has_value();
  T lo = T(0), hi = T(0);
  if constexpr (std::is_integral_v<T>) {
    TG_CHECK(!(has_lo && std::isnan(*min)) && !(has_hi && std::isnan(*max)), "clamp: a NaN bound for integers");
    constexpr double kLimit = 9223372036854775807.0;
    if (has_lo) {
      const double b = std::ceil(*min);
      if (b <= -kLimit) has_lo = false;
      else lo = b >= kLimit ? std::numeric_limits<T>::max() : static_cast<T>(b);
    }
    if (has_hi) {
      const double b = std::floor(*max);
      if (b >= kLimit) has_hi = false;
      else hi = b <= -kLimit ? std::numeric_limits<T>::lowest() : static_cast<T>(b);
    }
  } else {
    lo = has_lo ? static_cast<T>(*min) : T(0);
    hi = has_hi ? static_cast<T>(*max) : T(0);
  }
  return {has_lo, lo, has_hi, hi};
}

}  // namespace

Array clamp(const Array& x, std::optional<double> min, std::optional<double> max) {
  return dispatch_numeric(x.dtype(), "clamp", [&](auto tag) {
    using T = decltype(tag);
    const ClampBounds<T> b = clamp_bounds<T>(min, max);
    return map_unary<T, T>(x, x.dtype(), [=](T v) {
      if (b.has_lo && v < b.lo) v = b.lo;
      if (b.has_hi && v > b.hi) v = b.hi;
      return v;
    });
  });
}

Array clamp_mask(const Array& x, std::optional<double> min, std::optional<double> max) {
  return dispatch_floating(x.dtype(), "clamp", [&](auto tag) {
    using T = decltype(tag);
    const ClampBounds<T> b = clamp_bounds<T>(min, max);
    return map_unary<T, T>(x, x.dtype(), [=](T v) {
      return ((!b.has_lo || v >= b.lo) && (!b.has_hi || v <= b.hi)) ? T(1) : T(0);
    });
  });
}

Array where(const Array& cond, const Array& a, const Array& b) {
  check_same_dtype(a, b, "where");
  TG_CHECK(cond.dtype() == kBool, "where: condition must be bool, got ", dtype_name(cond.dtype()));
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Array out = Array::empty(shape, a.dtype());
  // Broadcast operands are read in place (a [T, T] mask over [B, H, T, T] scores, a scalar fill).
  const Shape cs = internal::broadcast_strides(cond.shape(), cond.strides(), shape);
  const Shape as = internal::broadcast_strides(a.shape(), a.strides(), shape);
  const Shape bs = internal::broadcast_strides(b.shape(), b.strides(), shape);
  const Shape& os = out.strides();
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const bool* cp = cond.data<bool>();
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* op = out.data<T>();
    internal::for_each_row<4>(shape, {&os, &cs, &as, &bs}, [&](auto off, int64_t len) {
      const int64_t sc = shape.empty() ? 0 : cs.back(), sa = shape.empty() ? 0 : as.back(),
                    sb = shape.empty() ? 0 : bs.back();
      const bool* c = cp + off[1];
      const T* x = ap + off[2];
      const T* y = bp + off[3];
      T* o = op + off[0];
      if (sc == 1 && sa == 1 && sb == 1) {
        for (int64_t i = 0; i < len; ++i) o[i] = c[i] ? x[i] : y[i];
      } else if (sc == 1 && sa == 0 && sb == 1) {  // masked_fill's form: a fixed fill value
        const T fill = *x;
        for (int64_t i = 0; i < len; ++i) o[i] = c[i] ? fill : y[i];
      } else if (sc == 1 && sa == 1 && sb == 0) {
        const T fill = *y;
        for (int64_t i = 0; i < len; ++i) o[i] = c[i] ? x[i] : fill;
      } else {
        for (int64_t i = 0; i < len; ++i) o[i] = c[i * sc] ? x[i * sa] : y[i * sb];
      }
    });
  });
  return out;
}

Array scale(const Array& x, double factor) {
  return dispatch_numeric(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    const T f = static_cast<T>(factor);
    return map_unary<T, T>(x, x.dtype(), [f](T v) { return v * f; });
  });
}

void add_into(const Array& dst, const Array& src, double alpha) {
  check_same_dtype(dst, src, "add_");
  TG_CHECK(broadcast_shapes(dst.shape(), src.shape(), "add_") == dst.shape(), "add_: cannot add ",
           shape_str(src.shape()), " into ", shape_str(dst.shape()));
  dispatch_numeric(dst.dtype(), "add_", [&](auto tag) {
    using T = decltype(tag);
    const T a = static_cast<T>(alpha);
    T* d = dst.data<T>();
    const T* s = src.data<T>();
    if (same_flat_order(dst, src)) {
      const int64_t n = dst.numel();
      if (n >= internal::kParallelGrain) {
      refresh_team_size();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) d[i] += a * s[i];
      } else {
        for (int64_t i = 0; i < n; ++i) d[i] += a * s[i];
      }
      return;
    }
    const Shape ss = internal::broadcast_strides(src.shape(), src.strides(), dst.shape());
    const Shape& ds = dst.strides();
    internal::for_each_row<2>(dst.shape(), {&ds, &ss}, [&](auto off, int64_t len) {
      const int64_t sd = dst.dim() ? ds.back() : 1, sv = dst.dim() ? ss.back() : 0;
      for (int64_t i = 0; i < len; ++i) d[off[0] + i * sd] += a * s[off[1] + i * sv];
    });
  });
}

Array uniform(const Shape& shape, double low, double high, DType dtype, Generator& gen) {
  TG_CHECK(low <= high, "uniform: low ", low, " > high ", high);
  Array out = Array::empty(shape, dtype);
  dispatch_floating(dtype, "uniform", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(low + (high - low) * gen.uniform());
  });
  return out;
}

Array normal(const Shape& shape, double mean, double stddev, DType dtype, Generator& gen) {
  TG_CHECK(stddev >= 0, "normal: stddev must be >= 0, got ", stddev);
  Array out = Array::empty(shape, dtype);
  dispatch_floating(dtype, "normal", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(mean + stddev * gen.normal());
  });
  return out;
}

Array bernoulli(const Shape& shape, double p_one, DType dtype, Generator& gen) {
  TG_CHECK(p_one >= 0 && p_one <= 1, "bernoulli: probability ", p_one, " not in [0, 1]");
  Array out = Array::empty(shape, dtype);
  dispatch_numeric(dtype, "bernoulli", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = gen.uniform() < p_one ? T(1) : T(0);
  });
  return out;
}

Array arange(double start, double end, double step, DType dtype) {
  TG_CHECK(step != 0, "arange: step must be nonzero");
  TG_CHECK(std::isfinite(start) && std::isfinite(end), "arange: bounds must be finite");
  const double count = std::ceil((end - start) / step);
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  Array out = Array::empty({n}, dtype);
  dispatch_numeric(dtype, "arange", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + i * step);
  });
  return out;
}

}  // namespace tg::ops
