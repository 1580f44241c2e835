// tapegrad/ops/internal/elementwise_math.h: the scalar helpers the elementwise op lists'
// expressions use (ops/elementwise.h), shared by the generic kernels (elementwise.cc) and the
// per-ISA vector kernels (vector_kernels.cc).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace tg::ops::internal {

template <typename T>
T stable_sigmoid(T v) {  // never exponentiates a large positive number
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1 / sqrt(2 pi), the normal density at 0

// x Phi(x) with the normal CDF Phi(x) = erfc(-x / sqrt 2) / 2: the same value as PyTorch's
// 0.5 x (1 + erf(x / sqrt 2)) without its cancellation for negative x (the vector kernels use
// libmvec's erfc the same way).
template <typename T>
T gelu_of(T x) {
  return static_cast<T>(0.5) * x * std::erfc(x * static_cast<T>(-M_SQRT1_2));
}

template <typename T>
T gelu_derivative_of(T x) {  // d/dx gelu(x) = Phi(x) + x phi(x)
  const T cdf = static_cast<T>(0.5) * std::erfc(x * static_cast<T>(-M_SQRT1_2));
  const T pdf = std::exp(static_cast<T>(-0.5) * x * x) * static_cast<T>(kInvSqrt2Pi);
  return cdf + x * pdf;
}

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2 / pi), gelu's tanh form
constexpr double kGeluTanhCubic = 0.044715;

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as x sigmoid(2u): 1 + tanh(u)
// cancels for negative x, the sigmoid form does not (so the ISA levels agree to a few ulps).
template <typename T>
T gelu_tanh_of(T x) {
  const T u = static_cast<T>(kSqrt2OverPi) * (x + static_cast<T>(kGeluTanhCubic) * x * x * x);
  return x * stable_sigmoid(static_cast<T>(2) * u);
}

// d/dx = s + 2 x s (1 - s) u', with s = sigmoid(2u) = (1 + tanh u) / 2 and 1 - tanh^2 u = 4 s (1 - s).
template <typename T>
T gelu_tanh_derivative_of(T x) {
  const T k = static_cast<T>(kSqrt2OverPi), c = static_cast<T>(kGeluTanhCubic);
  const T s = stable_sigmoid(static_cast<T>(2) * k * (x + c * x * x * x));
  return s + static_cast<T>(2) * x * s * (static_cast<T>(1) - s) * k * (static_cast<T>(1) + static_cast<T>(3) * c * x * x);
}

// The inverse error function: Giles' single-precision approximation ("Approximating the erfinv
// function", GPU Computing Gems, 2010) refined by two Newton steps on erf in double precision.
// erfinv(+-1) = +-inf, NaN outside [-1, 1].
inline double erfinv_double(double y) {
  if (!(y >= -1.0 && y <= 1.0)) return std::nan("");
  if (y == 1.0 || y == -1.0) return y * HUGE_VAL;
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
                     0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (1.1283791670955126 * std::exp(-x * x));  // 2/sqrt(pi)
  return x;
}
template <typename T>
T erfinv_of(T y) {
  return static_cast<T>(erfinv_double(static_cast<double>(y)));
}

// Rounding that leaves integers as they are (a float round trip would lose int64s above 2^53).
template <typename T>
T floor_of(T v) {
  if constexpr (std::is_integral_v<T>) return v; else return std::floor(v);
}
template <typename T>
T ceil_of(T v) {
  if constexpr (std::is_integral_v<T>) return v; else return std::ceil(v);
}
template <typename T>
T trunc_of(T v) {
  if constexpr (std::is_integral_v<T>) return v; else return std::trunc(v);
}
template <typename T>
T round_half_even_of(T v) {  // as torch.round and ONNX Round: halves go to the even neighbour
  if constexpr (std::is_integral_v<T>) return v; else return std::nearbyint(v);
}

template <typename T>
T softplus_of(T v, T beta, T threshold) {  // log(1 + exp(beta v)) / beta; linear above threshold
  return v * beta > threshold ? v : std::log1p(std::exp(v * beta)) / beta;
}
template <typename T>
T log_sigmoid_of(T v) {  // min(v, 0) - log1p(exp(-|v|)): never exponentiates a large number
  return (v < 0 ? v : T(0)) - std::log1p(std::exp(-std::abs(v)));
}
template <typename T>
T hardsigmoid_of(T v) {  // relu6(v + 3) / 6
  return v <= T(-3) ? T(0) : v >= T(3) ? T(1) : v / T(6) + static_cast<T>(0.5);
}

// fmod: the remainder of truncated division (the sign of a); remainder: of floored division (the
// sign of b), as Python's % and torch.remainder. Integer divisors are non-zero (checked first).
// Integer arithmetic wraps around in two's complement, as PyTorch's does (signed overflow is
// undefined in C++; the ONNX fuzzer found an int64 Mul overflowing): the operation runs on
// uint64_t and converts back (modular since C++20). Floats and bool compute as written.
template <typename T>
constexpr bool kWraps = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <typename T>
T wrapping_add(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else return a + b;
}
template <typename T>
T wrapping_sub(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  else return a - b;
}
template <typename T>
T wrapping_mul(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else return a * b;
}
template <typename T>
T wrapping_neg(T v) {
  if constexpr (kWraps<T>) return static_cast<T>(uint64_t{0} - static_cast<uint64_t>(v));
  else return -v;
}
// a / b with the integer quotient of the most negative value by -1 wrapping (it traps on x86).
template <typename T>
T divide_of(T a, T b) {
  if constexpr (kWraps<T> && std::is_signed_v<T>) {
    if (b == -1) return wrapping_neg(a);
  }
  return a / b;
}

template <typename T>
T fmod_of(T a, T b) {
  if constexpr (kWraps<T> && std::is_signed_v<T>) {
    if (b == -1) return T(0);  // the most negative value % -1 traps on x86
  }
  if constexpr (std::is_integral_v<T>) return a % b; else return std::fmod(a, b);
}
template <typename T>
T remainder_of(T a, T b) {
  T r = fmod_of(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
// floor(a / b), computed from fmod so that it is exact where a / b rounds (Python's algorithm).
template <typename T>
T floor_divide_of(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    const T q = divide_of(a, b);
    return (fmod_of(a, b) != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  } else {
    if (b == 0) return a / b;
    const T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= T(1);
    if (div == 0) return std::copysign(T(0), a / b);
    T floordiv = std::floor(div);
    if (div - floordiv > static_cast<T>(0.5)) floordiv += T(1);
    return floordiv;
  }
}
template <typename T>
T maximum_of(T a, T b) {  // a NaN on either side is the result; a tie gives a (0 vs -0), as torch
  return a != a ? a : (b != b ? b : (a < b ? b : a));
}
template <typename T>
T minimum_of(T a, T b) {
  return a != a ? a : (b != b ? b : (b < a ? b : a));
}

}  // namespace tg::ops::internal
