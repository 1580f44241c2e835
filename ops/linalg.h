// tapegrad/ops/linalg.h: grad-free matrix products with NumPy/PyTorch matmul semantics
// (1-D vectors, 2-D matrices, batched with broadcast batch dims).
#pragma once

#include "ops/array.h"

namespace tg::ops {

// Output shape of matmul(a, b); throws "matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ".
Shape matmul_shape(const Shape& a, const Shape& b);
Array matmul(const Array& a, const Array& b);

}  // namespace tg::ops
