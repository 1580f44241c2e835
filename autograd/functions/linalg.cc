// tapegrad/autograd/functions/linalg.cc: the matmul row (vectors, matrices, broadcast batches)
// and linear = x @ W^T + b.
#include "autograd/functions/common.h"
#include "ops/linalg.h"

namespace tg {

using internal::if_needed;

namespace {

// Note [matmul backward]: vectors are promoted to matrices (a: [k] -> [1,k], b: [k] -> [k,1]),
// the gradient is reshaped to the promoted product's shape, and broadcast batch dims are summed
// back with sum_to.
// Note [Transposed operands]: when b is a transposed view of a contiguous matrix (linear's W^T),
// its gradient is computed as (g^T a)^T rather than a^T g: the same products, but the transpose
// backward then hands the weight a contiguous gradient instead of a transposed view that would be
// copied element by element (measured: 17 % of a cnn_wide training step).
bool is_transposed_matrix(const Tensor& t) {
  const ops::Array& d = t.data();
  return d.dim() == 2 && d.size(0) > 1 && d.size(1) > 1 && d.strides()[0] == 1 && d.strides()[1] == d.size(0);
}

const OpDef& kMatmul = define_op({
    .name = "matmul",
    .forward = [](ForwardContext& c) { return ops::matmul(c.in(0), c.in(1)); },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor a = c.input(0), b = c.input(1);
      const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
      const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
      const Tensor g = reshape(c.grad, ops::matmul_shape(a2.shape(), b2.shape()));
      return {if_needed(c, 0, [&] { return reshape(sum_to(matmul(g, transpose(b2, -1, -2)), a2.shape()), a.shape()); }),
              if_needed(c, 1, [&] {
                // A matrix b under a batch of a (a linear layer on a sequence): a's leading dims
                // fold into its rows, so the gradient is one product, not a batch of them summed.
                const Tensor af = b2.dim() == 2 && a2.dim() > 2 ? reshape(a2, {-1, a2.size(-1)}) : a2;
                const Tensor gf = b2.dim() == 2 && a2.dim() > 2 ? reshape(g, {-1, g.size(-1)}) : g;
                if (af.dim() == 2 && is_transposed_matrix(b2)) return transpose(matmul(transpose(gf, 0, 1), af), 0, 1);
                if (af.dim() == 2 && b2.dim() == 2) return reshape(matmul(transpose(af, 0, 1), gf), b.shape());
                return reshape(sum_to(matmul(transpose(a2, -1, -2), g), b2.shape()), b.shape());
              })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .onnx = {{.op_type = "MatMul"}},
});

}  // namespace


Tensor matmul(const Tensor& a, const Tensor& b) { return apply_op(kMatmul, {a, b}); }

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  TG_CHECK(weight.dim() == 2, "linear: weight must be 2-D [out_features, in_features], got ",
           shape_str(weight.shape()));
  TG_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ", shape_str(x.shape()),
           " has ", x.dim() ? x.size(-1) : 0, " features, weight ", shape_str(weight.shape()), " expects ",
           weight.size(1));
  Tensor y = matmul(x, transpose(weight, 0, 1));
  if (bias.defined()) {
    TG_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias ", shape_str(bias.shape()),
             " does not match ", weight.size(0), " output features");
    y = y + bias;
  }
  return y;
}

}  // namespace tg
