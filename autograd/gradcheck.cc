// tapegrad/autograd/gradcheck.cc: Jacobians by central differences and by reverse mode.
#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"

namespace tg::autograd {

namespace {

// Row-major values of a tensor as doubles (any strides).
std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// Writes v into element i (row-major over the logical shape) of t's data, in place.
void set_element(const Tensor& t, int64_t i, double v) {
  const ops::Array& a = t.data();
  int64_t off = 0, rem = i;
  for (int64_t d = a.dim() - 1; d >= 0; --d) {
    off += (rem % a.size(d)) * a.strides()[d];
    rem /= a.size(d);
  }
  a.data<double>()[off] = v;
  a.storage()->bump_version("gradcheck");  // Note [Version counter] in ops/storage.h
}

struct Jacobians {
  // [input][output element][input element]
  std::vector<std::vector<std::vector<double>>> numerical, analytical;
};

Tensor run(const TensorFunction& fn, const std::vector<Tensor>& inputs) {
  Tensor out = fn(inputs);
  TG_CHECK(out.defined(), "gradcheck: the function returned an undefined tensor");
  TG_CHECK(out.dtype() == kFloat64, "gradcheck: the function must return float64, got ", dtype_name(out.dtype()));
  return out;
}

GradcheckResult compare(const TensorFunction& fn, const std::vector<Tensor>& inputs, double eps, double atol,
                        double rtol, const char* what) {
  for (size_t k = 0; k < inputs.size(); ++k) {
    TG_CHECK(!inputs[k].requires_grad() || inputs[k].dtype() == kFloat64, what, ": input ", k,
             " requires grad but is ", dtype_name(inputs[k].dtype()), "; gradcheck needs float64");
  }
  const Tensor out0 = run(fn, inputs);
  const int64_t n_out = out0.numel();
  std::ostringstream failure;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    const int64_t n_in = x.numel();
    // Numerical: column j of the Jacobian from f(x + eps e_j) - f(x - eps e_j).
    std::vector<std::vector<double>> numerical(n_out, std::vector<double>(n_in));
    const std::vector<double> x0 = values(x);
    for (int64_t j = 0; j < n_in; ++j) {
      std::vector<double> plus, minus;
      {
        NoGradGuard no_grad;
        set_element(x, j, x0[j] + eps);
        plus = values(run(fn, inputs));
        set_element(x, j, x0[j] - eps);
        minus = values(run(fn, inputs));
        set_element(x, j, x0[j]);
      }
      for (int64_t i = 0; i < n_out; ++i) numerical[i][j] = (plus[i] - minus[i]) / (2 * eps);
    }
    // Analytical: row i of the Jacobian from a backward with the one-hot cotangent e_i.
    for (int64_t i = 0; i < n_out; ++i) {
      const Tensor out = run(fn, inputs);
      std::vector<double> row(n_in, 0.0);  // an output that does not require grad is constant
      if (out.requires_grad()) {
        Tensor cotangent = zeros(out.shape(), kFloat64);
        set_element(cotangent, i, 1.0);
        const std::vector<Tensor> g = grad({out}, {x}, {cotangent}, false, false, /*allow_unused=*/true);
        if (g[0].defined()) row = values(g[0]);
      }
      for (int64_t j = 0; j < n_in; ++j) {
        const double a = row[j], num = numerical[i][j];
        if (!(std::fabs(a - num) <= atol + rtol * std::fabs(num))) {
          failure << what << ": Jacobian mismatch for input " << k << " " << shape_str(x.shape()) << ", output element "
                  << i << ", input element " << j << ": numerical " << num << " vs analytical " << a;
          return {false, failure.str()};
        }
      }
    }
  }
  return {true, ""};
}

}  // namespace

GradcheckResult gradcheck(const TensorFunction& fn, const std::vector<Tensor>& inputs, double eps, double atol,
                          double rtol) {
  return compare(fn, inputs, eps, atol, rtol, "gradcheck");
}

GradcheckResult gradgradcheck(const TensorFunction& fn, const std::vector<Tensor>& inputs, double eps,
                              double atol, double rtol) {
  // A fixed random cotangent for the output; then check the function inputs -> (sum of) grads.
  Tensor out = fn(inputs);
  ops::Generator gen(1234);
  const Tensor cotangent = randn(out.shape(), kFloat64, &gen);
  std::vector<size_t> differentiable;
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].requires_grad()) differentiable.push_back(k);
  // The first-order gradients, flattened and concatenated: a function of the same inputs.
  TensorFunction grad_fn = [&](const std::vector<Tensor>& in) {
    AutoGradMode recording(true);  // the first-order gradient needs a graph even while probing
    std::vector<Tensor> wrt;
    for (size_t k : differentiable) wrt.push_back(in[k]);
    const Tensor y = fn(in);
    const std::vector<Tensor> grads = grad({y}, wrt, {cotangent}, true, /*create_graph=*/true, true);
    std::vector<Tensor> flat;
    for (size_t k = 0; k < grads.size(); ++k) {
      flat.push_back(grads[k].defined() ? reshape(grads[k], {-1}) : zeros({wrt[k].numel()}, kFloat64));
    }
    return cat(flat, 0);
  };
  // A gradient that does not depend on the inputs (a linear function) gives an analytic row of
  // zeros, which the central differences must then confirm.
  return compare(grad_fn, inputs, eps, atol, rtol, "gradgradcheck");
}

}  // namespace tg::autograd
