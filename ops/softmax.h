// tapegrad/ops/softmax.h: grad-free softmax and log-softmax along one dim (numerically stable:
// the row maximum is subtracted before exponentiating).
#pragma once

#include "ops/array.h"

namespace tg::ops {

Array softmax(const Array& x, int64_t dim);
Array log_softmax(const Array& x, int64_t dim);

}  // namespace tg::ops
