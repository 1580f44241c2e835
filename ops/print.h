// tapegrad/ops/print.h: PyTorch-style text form of an array, e.g.
//   tensor([[1.0000, 2.0000],
//           [3.0000, 4.0000]], shape=[2,2], dtype=float32)
// Large arrays are summarized with "..." (3 items at each edge, as torch does past 1000 elements).
#pragma once

#include <ostream>
#include <string>

#include "ops/array.h"

namespace tg::ops {

// `suffix` is appended inside the parentheses (e.g. ", requires_grad=true").
void print_array(std::ostream& os, const Array& a, const std::string& suffix = "");

}  // namespace tg::ops
