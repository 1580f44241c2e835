// tapegrad/autograd/gradcheck.h: numerical verification of gradients in float64.
// gradcheck compares the analytic Jacobian (reverse mode, one backward per output element) with
// central differences; gradgradcheck does the same for the gradient function itself (with a
// random output cotangent), which exercises every backward formula's own backward.
//   bool ok = tg::autograd::gradcheck([](const std::vector<Tensor>& in) { return tg::tanh(in[0]); },
//                                     {tg::randn({3}, tg::kFloat64).set_requires_grad()});
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace tg::autograd {

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckResult {
  bool ok = true;
  std::string message;  // on failure: input, element, numerical vs analytic values
  explicit operator bool() const { return ok; }
};

// Inputs that require grad are checked; they must be float64. Others are passed through.
GradcheckResult gradcheck(const TensorFunction& fn, const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);
GradcheckResult gradgradcheck(const TensorFunction& fn, const std::vector<Tensor>& inputs, double eps = 1e-6,
                              double atol = 1e-5, double rtol = 1e-3);

}  // namespace tg::autograd
