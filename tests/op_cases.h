// tapegrad/tests/op_cases.h: the op case table: small float64 programs, one or more per
// differentiable op row and per interesting configuration (broadcasting, non-contiguous inputs,
// conv stride/padding/dilation/groups, pooling with padding, reductions over several dims).
// //tests:gradcheck_test checks each by central differences (second_order ones also by
// gradgradcheck); //io:onnx_ops_test exports each one whose ops map to ONNX and runs it in ONNX
// Runtime (in float32: a case's own constants take its inputs' dtype). Adding an op is one row (autograd/functions/<family>.cc) plus one case here.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"

namespace tg::test_cases {

using Inputs = std::vector<Tensor>;

struct OpCase {
  std::string name;
  std::function<Tensor(const Inputs&)> fn;
  std::function<Inputs()> make_inputs;
  bool second_order = false;
  double eps = 1e-6, atol = 1e-5;
};

std::ostream& operator<<(std::ostream& os, const OpCase& c);

std::vector<OpCase> op_cases();

}  // namespace tg::test_cases
