// tapegrad/ops/internal/elementwise_math.h: the scalar helpers the elementwise op lists'
// expressions use (ops/elementwise.h), shared by the generic kernels (elementwise.cc) and the
// per-ISA vector kernels (vector_kernels.cc).
#pragma once

#include <cmath>

namespace tg::ops::internal {

template <typename T>
T stable_sigmoid(T v) {  // never exponentiates a large positive number
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

template <typename T>
T gelu_of(T x) {
  return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::erf(x * static_cast<T>(M_SQRT1_2)));
}

template <typename T>
T gelu_derivative_of(T x) {  // d/dx gelu(x) = Phi(x) + x phi(x)
  const T cdf = static_cast<T>(0.5) * (static_cast<T>(1) + std::erf(x * static_cast<T>(M_SQRT1_2)));
  const T pdf = std::exp(static_cast<T>(-0.5) * x * x) * static_cast<T>(0.3989422804014327);
  return cdf + x * pdf;
}

}  // namespace tg::ops::internal
