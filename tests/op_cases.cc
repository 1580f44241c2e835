// tapegrad/tests/op_cases.cc: see op_cases.h.
#include "tests/op_cases.h"

#include "ops/elementwise.h"

namespace tg::test_cases {
namespace {

using indexing::None;
using indexing::Slice;

// Leaf float64 inputs. Seeds are fixed so every run checks the same points.
Tensor leaf(const ops::Array& a) { return Tensor(a, /*requires_grad=*/true); }
ops::Generator& gen() {
  static ops::Generator g(2024);
  return g;
}
Tensor normal(const Shape& s) { return leaf(ops::normal(s, 0, 1, kFloat64, gen())); }
// Values in [lo, hi): keeps log/sqrt/div away from their singularities.
Tensor uniform(const Shape& s, double lo, double hi) { return leaf(ops::uniform(s, lo, hi, kFloat64, gen())); }
// A non-contiguous leaf: the transpose of a [s1, s0] array.
Tensor transposed(int64_t s0, int64_t s1) {
  return leaf(ops::normal({s1, s0}, 0, 1, kFloat64, gen()).transpose(0, 1));
}
Tensor indices(const std::vector<int64_t>& v, const Shape& s) { return tensor(v, s, kInt64); }

}  // namespace

std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

std::vector<OpCase> op_cases() {
  const Shape k2{2, 2};
  return {
      // ---- elementwise, with broadcasting ----
      {"add_broadcast", [](const Inputs& x) { return x[0] + x[1]; }, [] { return Inputs{normal({3, 1, 4}), normal({2, 4})}; }, true},
      {"add_scalar_tensor", [](const Inputs& x) { return x[0] + x[1]; }, [] { return Inputs{normal({3}), normal({})}; }},
      {"sub_broadcast", [](const Inputs& x) { return x[0] - x[1]; }, [] { return Inputs{normal({2, 3}), normal({3})}; }},
      {"mul_broadcast", [](const Inputs& x) { return x[0] * x[1]; }, [] { return Inputs{normal({2, 3}), normal({2, 1})}; }, true},
      {"mul_same_tensor_twice", [](const Inputs& x) { return x[0] * x[0]; }, [] { return Inputs{normal({4})}; }, true},
      {"mul_noncontiguous", [](const Inputs& x) { return x[0] * x[1]; }, [] { return Inputs{transposed(3, 4), normal({3, 4})}; }},
      {"div", [](const Inputs& x) { return x[0] / x[1]; }, [] { return Inputs{normal({2, 3}), uniform({2, 3}, 0.5, 2)}; }, true},
      {"div_broadcast", [](const Inputs& x) { return x[0] / x[1]; }, [] { return Inputs{normal({2, 3}), uniform({3}, 0.5, 2)}; }},
      {"pow_tensor", [](const Inputs& x) { return pow(x[0], x[1]); }, [] { return Inputs{uniform({2, 3}, 0.5, 2), normal({2, 3})}; }, true},
      {"pow_scalar", [](const Inputs& x) { return pow(x[0], 3.0); }, [] { return Inputs{normal({5})}; }, true},
      {"neg", [](const Inputs& x) { return -x[0]; }, [] { return Inputs{normal({2, 3})}; }},
      {"exp", [](const Inputs& x) { return exp(x[0]); }, [] { return Inputs{normal({2, 3})}; }, true},
      {"log", [](const Inputs& x) { return log(x[0]); }, [] { return Inputs{uniform({2, 3}, 0.5, 3)}; }, true},
      {"sqrt", [](const Inputs& x) { return sqrt(x[0]); }, [] { return Inputs{uniform({2, 3}, 0.5, 3)}; }, true},
      {"abs", [](const Inputs& x) { return abs(x[0]); }, [] { return Inputs{normal({2, 3})}; }},
      {"sin_cos", [](const Inputs& x) { return sin(x[0]) * cos(x[1]); }, [] { return Inputs{normal({2, 3}), normal({3})}; }, true},
      {"clamp", [](const Inputs& x) { return clamp(x[0], -0.5, 0.5); }, [] { return Inputs{normal({3, 4})}; }},
      {"clamp_min_only", [](const Inputs& x) { return clamp(x[0], 0.1, std::nullopt); }, [] { return Inputs{normal({6})}; }},
      {"where", [](const Inputs& x) { return where(gt(x[0], zeros({}, x[0].dtype())), x[0], x[1]); },
       [] { return Inputs{normal({3, 4}), normal({4})}; }},
      {"tan", [](const Inputs& x) { return tan(x[0]); }, [] { return Inputs{uniform({2, 3}, -1, 1)}; }, true},
      {"asin_acos", [](const Inputs& x) { return asin(x[0]) * acos(x[1]); }, [] { return Inputs{uniform({2, 3}, -0.8, 0.8), uniform({3}, -0.8, 0.8)}; }, true},
      {"atan", [](const Inputs& x) { return atan(x[0]); }, [] { return Inputs{normal({2, 3})}; }, true},
      {"sinh_cosh", [](const Inputs& x) { return sinh(x[0]) * cosh(x[1]); }, [] { return Inputs{normal({2, 3}), normal({2, 3})}; }, true},
      {"erf", [](const Inputs& x) { return erf(x[0]); }, [] { return Inputs{normal({2, 3})}; }, true},
      {"erfinv", [](const Inputs& x) { return erfinv(x[0]); }, [] { return Inputs{uniform({2, 3}, -0.9, 0.9)}; }, true},
      {"expm1", [](const Inputs& x) { return expm1(x[0]); }, [] { return Inputs{normal({2, 3})}; }, true},
      {"log1p", [](const Inputs& x) { return log1p(x[0]); }, [] { return Inputs{uniform({2, 3}, -0.5, 2)}; }, true},
      {"log2_log10", [](const Inputs& x) { return log2(x[0]) + log10(x[1]); }, [] { return Inputs{uniform({2, 3}, 0.5, 3), uniform({3}, 0.5, 3)}; }, true},
      {"rsqrt", [](const Inputs& x) { return rsqrt(x[0]); }, [] { return Inputs{uniform({2, 3}, 0.5, 3)}; }, true},
      {"reciprocal", [](const Inputs& x) { return reciprocal(x[0]); }, [] { return Inputs{uniform({2, 3}, 0.5, 2)}; }, true},
      // Away from the jumps (3x in (0.6, 0.9)): the gradient of the rounding is zero, frac's is 1.
      {"rounding_sign_frac",
       [](const Inputs& x) {
         const Tensor y = x[0] * 3.0;
         return floor(y) + ceil(y) * x[0] + round(y) + trunc(y) + sign(x[0]) * x[0] + frac(y);
       },
       [] { return Inputs{uniform({2, 3}, 0.2, 0.3)}; }},
      {"atan2", [](const Inputs& x) { return atan2(x[0], x[1]); }, [] { return Inputs{normal({2, 3}), uniform({3}, 0.5, 2)}; }, true},
      // a / b in (2, 2.9) and (-2.9, -2): no jump of trunc or floor within the steps.
      {"fmod_remainder",
       [](const Inputs& x) { return fmod(x[0], x[2]) + remainder(x[1], x[2]); },
       [] { return Inputs{uniform({2, 3}, 2.1, 2.9), uniform({2, 3}, -2.9, -2.1), uniform({3}, 1.0, 1.03)}; }},
      {"maximum_minimum", [](const Inputs& x) { return maximum(x[0], x[1]) * minimum(x[0], x[1]); },
       [] { return Inputs{normal({2, 3}), normal({3})}; }, true},
      // ---- activations ----
      {"elu_selu_celu", [](const Inputs& x) { return elu(x[0], 0.7) + selu(x[0]) * celu(x[0], 1.5); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"softplus_beta_threshold", [](const Inputs& x) { return softplus(x[0], 2.0, 3.0); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"silu_mish", [](const Inputs& x) { return silu(x[0]) + mish(x[1]); }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      {"log_sigmoid", [](const Inputs& x) { return log_sigmoid(x[0] * 4.0); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"hardtanh", [](const Inputs& x) { return hardtanh(x[0], -0.5, 0.8); }, [] { return Inputs{normal({3, 4})}; }},
      {"hardsigmoid_hardswish", [](const Inputs& x) { return hardsigmoid(x[0]) + hardswish(x[1]); },
       [] { return Inputs{uniform({3, 4}, -5, 5), uniform({3, 4}, -5, 5)}; }, true},
      {"prelu_per_channel", [](const Inputs& x) { return prelu(x[0], x[1]); }, [] { return Inputs{normal({2, 3, 4}), normal({3})}; }, true},
      {"prelu_shared", [](const Inputs& x) { return prelu(x[0], x[1]); }, [] { return Inputs{normal({2, 3}), normal({1})}; }},
      {"glu", [](const Inputs& x) { return glu(x[0], 1); }, [] { return Inputs{normal({2, 4})}; }, true},
      {"gelu_tanh", [](const Inputs& x) { return gelu(x[0], "tanh"); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"relu", [](const Inputs& x) { return relu(x[0]); }, [] { return Inputs{normal({3, 4})}; }},
      {"leaky_relu", [](const Inputs& x) { return leaky_relu(x[0], 0.2); }, [] { return Inputs{normal({3, 4})}; }},
      {"sigmoid", [](const Inputs& x) { return sigmoid(x[0]); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"tanh", [](const Inputs& x) { return tanh(x[0]); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"tanh_noncontiguous", [](const Inputs& x) { return tanh(x[0]); }, [] { return Inputs{transposed(2, 5)}; }, true},
      {"gelu", [](const Inputs& x) { return gelu(x[0]); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"softmax_dim1", [](const Inputs& x) { return softmax(x[0], 1); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"softmax_dim0_3d", [](const Inputs& x) { return softmax(x[0], 0); }, [] { return Inputs{normal({3, 2, 2})}; }, true},
      {"log_softmax_dim_last", [](const Inputs& x) { return log_softmax(x[0], -1); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"log_softmax_noncontiguous", [](const Inputs& x) { return log_softmax(x[0], 1); }, [] { return Inputs{transposed(3, 4)}; }, true},
      {"dropout_training",
       [](const Inputs& x) {
         ops::Generator g(7);  // the same mask on every evaluation
         return dropout(x[0], 0.4, true, &g);
       },
       [] { return Inputs{normal({4, 5})}; }, true},
      {"dropout_eval", [](const Inputs& x) { return dropout(x[0], 0.4, false); }, [] { return Inputs{normal({4})}; }},
      // ---- reductions ----
      {"sum_all", [](const Inputs& x) { return sum(x[0]); }, [] { return Inputs{normal({2, 3})}; }},
      {"sum_dims_0_2_keepdim", [](const Inputs& x) { return sum(x[0], {0, 2}, true); }, [] { return Inputs{normal({2, 3, 4})}; }},
      {"sum_dim_negative", [](const Inputs& x) { return sum(x[0], {-1}); }, [] { return Inputs{transposed(3, 4)}; }},
      {"mean_all", [](const Inputs& x) { return mean(x[0]); }, [] { return Inputs{normal({2, 3})}; }},
      {"mean_dims_1_2", [](const Inputs& x) { return mean(x[0], {1, 2}); }, [] { return Inputs{normal({2, 3, 4})}; }},
      {"max_all", [](const Inputs& x) { return max(x[0]); }, [] { return Inputs{normal({3, 4})}; }},
      {"min_all", [](const Inputs& x) { return min(x[0]); }, [] { return Inputs{normal({3, 4})}; }},
      {"max_dim_keepdim", [](const Inputs& x) { return std::get<0>(max(x[0], 1, true)); }, [] { return Inputs{normal({3, 4, 2})}; }},
      {"min_dim", [](const Inputs& x) { return std::get<0>(min(x[0], 0)); }, [] { return Inputs{normal({3, 4})}; }},
      {"logsumexp_dim1", [](const Inputs& x) { return logsumexp(x[0], {1}); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"logsumexp_dims_0_2_keepdim", [](const Inputs& x) { return logsumexp(x[0], {0, 2}, true); }, [] { return Inputs{normal({2, 3, 2})}; }},
      {"var_std", [](const Inputs& x) { return var(x[0], {1}) + tg::std(x[0], {0, 1}, false, true); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"prod_dim", [](const Inputs& x) { return prod(x[0], 1); }, [] { return Inputs{normal({3, 4})}; }},
      {"prod_all", [](const Inputs& x) { return prod(x[0]); }, [] { return Inputs{uniform({2, 3}, 0.5, 1.5)}; }},
      {"cumsum", [](const Inputs& x) { return cumsum(x[0], 1) * x[1]; }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      {"cumprod", [](const Inputs& x) { return cumprod(x[0], 0); }, [] { return Inputs{normal({3, 4})}; }},
      {"norm2_dim", [](const Inputs& x) { return norm(x[0], 2, {1}); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"norm_p3", [](const Inputs& x) { return norm(x[0], 3); }, [] { return Inputs{normal({3, 4})}; }},
      {"sort_values", [](const Inputs& x) { return std::get<0>(sort(x[0], 1, true)) * x[1]; }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      {"topk", [](const Inputs& x) { return std::get<0>(topk(x[0], 2, 0)); }, [] { return Inputs{normal({4, 3})}; }, true},
      // ---- linear algebra ----
      {"matmul_2d", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({3, 4}), normal({4, 2})}; }, true},
      {"matmul_transposed_operands", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{transposed(3, 4), transposed(4, 2)}; }, true},
      {"matmul_batched_broadcast", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({2, 3, 4}), normal({4, 2})}; }, true},
      {"matmul_batched_both", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({2, 1, 2, 3}), normal({3, 3, 2})}; }},
      {"matmul_vector_matrix", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({4}), normal({4, 3})}; }},
      {"matmul_matrix_vector", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({3, 4}), normal({4})}; }},
      {"matmul_dot", [](const Inputs& x) { return matmul(x[0], x[1]); }, [] { return Inputs{normal({5}), normal({5})}; }},
      {"linear_bias", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }, [] { return Inputs{normal({4, 3}), normal({2, 3}), normal({2})}; }, true},
      // ---- shape and indexing ----
      {"reshape", [](const Inputs& x) { return reshape(x[0], {3, -1}) * 2.0; }, [] { return Inputs{normal({2, 6})}; }},
      {"reshape_noncontiguous", [](const Inputs& x) { return reshape(x[0], {-1}); }, [] { return Inputs{transposed(3, 4)}; }},
      {"permute", [](const Inputs& x) { return permute(x[0], {2, 0, 1}); }, [] { return Inputs{normal({2, 3, 4})}; }},
      {"contiguous", [](const Inputs& x) { return contiguous(x[0]) * 3.0; }, [] { return Inputs{transposed(3, 2)}; }},
      {"contiguous_channels_last", [](const Inputs& x) { return relu(contiguous(x[0], MemoryFormat::ChannelsLast)) * x[1]; },
       [] { return Inputs{normal({2, 3, 2, 4}), normal({3, 1, 1})}; }, true},
      {"clone", [](const Inputs& x) { return clone(x[0]) * x[0]; }, [] { return Inputs{normal({4})}; }, true},
      // float32 round trip: exact up to float32 rounding, hence the larger step and tolerance.
      {"to_dtype_round_trip", [](const Inputs& x) { return to_dtype(to_dtype(x[0], kFloat32), kFloat64); },
       [] { return Inputs{normal({3})}; }, false, 1e-2, 1e-4},
      {"transpose", [](const Inputs& x) { return transpose(x[0], 0, 1); }, [] { return Inputs{normal({2, 3})}; }},
      {"slice_step", [](const Inputs& x) { return slice(x[0], 1, 1, 6, 2); }, [] { return Inputs{normal({3, 7})}; }, true},
      {"narrow", [](const Inputs& x) { return narrow(x[0], 0, 1, 2); }, [] { return Inputs{normal({4, 3})}; }},
      {"expand", [](const Inputs& x) { return expand(x[0], {2, 3, 4}); }, [] { return Inputs{normal({3, 1})}; }},
      {"squeeze_unsqueeze", [](const Inputs& x) { return unsqueeze(squeeze(x[0], 1), 0); }, [] { return Inputs{normal({3, 1, 2})}; }},
      {"flatten", [](const Inputs& x) { return flatten(x[0], 1); }, [] { return Inputs{normal({2, 3, 2})}; }},
      {"unflatten_last_and_middle", [](const Inputs& x) { return unflatten(unflatten(x[0], -1, {2, -1}), 0, {-1, 2}); },
       [] { return Inputs{normal({4, 3, 6})}; }},
      {"flatten_noncontiguous", [](const Inputs& x) { return flatten(x[0], 0, 1); }, [] { return Inputs{transposed(3, 4)}; }},
      {"cat_dim1", [](const Inputs& x) { return cat({x[0], x[1], x[2]}, 1); }, [] { return Inputs{normal({2, 1}), normal({2, 3}), normal({2, 2})}; }},
      {"stack", [](const Inputs& x) { return stack({x[0], x[1]}, 1); }, [] { return Inputs{normal({2, 3}), normal({2, 3})}; }},
      {"index_select_repeated", [](const Inputs& x) { return index_select(x[0], 0, indices({2, 0, 2}, {3})); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"index_add", [](const Inputs& x) { return index_add({4, 2}, 0, indices({1, 3, 1}, {3}), x[0]); }, [] { return Inputs{normal({3, 2})}; }},
      {"gather_dim1", [](const Inputs& x) { return gather(x[0], 1, indices({0, 2, 1, 1, 0, 0}, {3, 2})); }, [] { return Inputs{normal({3, 3})}; }, true},
      {"scatter_add_dim0", [](const Inputs& x) { return scatter_add({3, 2}, 0, indices({0, 2, 0, 0}, {2, 2}), x[0]); }, [] { return Inputs{normal({2, 2})}; }},
      {"pad_constant_crop", [](const Inputs& x) { return pad(x[0], {1, -1, 2, 0}, "constant", 0.5); }, [] { return Inputs{normal({2, 3, 4})}; }, true},
      {"pad_reflect", [](const Inputs& x) { return pad(x[0], {2, 1, 1, 2}, "reflect") * x[1]; },
       [] { return Inputs{normal({2, 3, 4}), normal({2, 6, 7})}; }, true},
      {"pad_replicate", [](const Inputs& x) { return pad(x[0], {2, 1, 0, 3}, "replicate") * x[1]; },
       [] { return Inputs{normal({2, 3, 4}), normal({2, 6, 7})}; }, true},
      {"index_mixed", [](const Inputs& x) { return x[0].index({"...", Slice(1, None), None, -1}); }, [] { return Inputs{normal({2, 3, 4})}; }},
      {"flip_roll_repeat", [](const Inputs& x) { return roll(x[0].flip({1}), {1}, {0}).repeat({2, 1}) * x[1]; },
       [] { return Inputs{normal({3, 2}), normal({6, 2})}; }, true},
      {"tril_masked_fill", [](const Inputs& x) { return tril(x[0]).masked_fill(x[0] > 0.5, -2.0); }, [] { return Inputs{normal({3, 3})}; }},
      // ---- convolution ----
      {"conv2d_bias", [](const Inputs& x) { return conv2d(x[0], x[1], x[2]); }, [] { return Inputs{normal({2, 2, 5, 5}), normal({3, 2, 3, 3}), normal({3})}; }, true},
      {"conv2d_stride2_pad1", [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 2, 1); }, [] { return Inputs{normal({1, 2, 6, 5}), normal({2, 2, 3, 3}), normal({2})}; }, true},
      {"conv2d_dilation2_asymmetric", [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), {1, 2}, {1, 0}, {2, 1}); }, [] { return Inputs{normal({1, 1, 6, 6}), normal({2, 1, 2, 3})}; }},
      {"fused_conv2d_residual_relu", [](const Inputs& x) { return fused_conv2d(x[0], x[1], x[2], x[3], true, 1, 1); }, [] { return Inputs{normal({2, 2, 5, 5}), normal({3, 2, 3, 3}), normal({3}), normal({2, 3, 5, 5})}; }, true},
      {"fused_conv2d_relu_stride2", [](const Inputs& x) { return fused_conv2d(x[0], x[1], Tensor(), Tensor(), true, 2, 1); }, [] { return Inputs{normal({1, 2, 6, 5}), normal({2, 2, 3, 3})}; }, true},
      {"fused_conv2d_residual_groups2", [](const Inputs& x) { return fused_conv2d(x[0], x[1], x[2], x[3], false, 1, 1, 1, 2); }, [] { return Inputs{normal({2, 4, 4, 4}), normal({4, 2, 3, 3}), normal({4}), normal({2, 4, 4, 4})}; }, true},
      {"fused_conv2d_plain", [](const Inputs& x) { return fused_conv2d(x[0], x[1], x[2], Tensor(), false); }, [] { return Inputs{normal({1, 2, 4, 4}), normal({2, 2, 3, 3}), normal({2})}; }},
      {"conv2d_groups2", [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1, 1, 2); }, [] { return Inputs{normal({2, 4, 4, 4}), normal({4, 2, 3, 3}), normal({4})}; }, true},
      {"conv2d_noncontiguous_input", [](const Inputs& x) { return conv2d(permute(x[0], {0, 3, 1, 2}), x[1]); },
       [] { return Inputs{normal({1, 4, 4, 2}), normal({1, 2, 2, 2})}; }},
      // ---- recurrent cells ----
      {"fused_lstm_cell", [](const Inputs& x) { auto [h, c] = fused_lstm_cell(x[0], x[1]); return h * 2.0 + c; },
       [] { return Inputs{normal({3, 8}), normal({3, 2})}; }, true},
      {"fused_lstm_cell_state_only", [](const Inputs& x) { return fused_lstm_cell(x[0] * 3.0, x[1]).second; },
       [] { return Inputs{normal({2, 1, 12}), normal({2, 1, 3})}; }, true},
      {"fused_lstm_cell_zero_state", [](const Inputs& x) { auto [h, c] = fused_lstm_cell(x[0], Tensor()); return h - c; },
       [] { return Inputs{normal({2, 8})}; }, true},
      // ---- pooling ----
      {"conv_transpose2d_bias", [](const Inputs& x) { return conv_transpose2d(x[0], x[1], x[2]); }, [] { return Inputs{normal({2, 3, 3, 4}), normal({3, 2, 2, 3}), normal({2})}; }, true},
      {"conv_transpose2d_stride_pad_output_padding", [](const Inputs& x) { return conv_transpose2d(x[0], x[1], x[2], {2, 3}, {1, 0}, {1, 2}); },
       [] { return Inputs{normal({1, 2, 3, 3}), normal({2, 3, 3, 2}), normal({3})}; }, true},
      {"conv_transpose2d_groups_dilation", [](const Inputs& x) { return conv_transpose2d(x[0], x[1], Tensor(), 2, 1, 1, 2, {2, 1}); },
       [] { return Inputs{normal({1, 4, 3, 2}), normal({4, 1, 2, 3})}; }},
      {"conv_transpose1d_stride_groups", [](const Inputs& x) { return conv_transpose1d(x[0], x[1], x[2], 2, 1, 1, 2); },
       [] { return Inputs{normal({2, 4, 3}), normal({4, 3, 3}), normal({6})}; }},
      {"max_pool2d_k2", [](const Inputs& x) { return max_pool2d(x[0], 2); }, [] { return Inputs{normal({2, 2, 4, 4})}; }, true},
      {"max_pool2d_k3_s1_p1", [](const Inputs& x) { return max_pool2d(x[0], 3, 1, 1); }, [] { return Inputs{normal({1, 2, 4, 5})}; }},
      {"avg_pool2d_k2", [](const Inputs& x) { return avg_pool2d(x[0], 2); }, [] { return Inputs{normal({2, 2, 4, 4})}; }, true},
      {"avg_pool2d_k3_s2_p1", [](const Inputs& x) { return avg_pool2d(x[0], 3, 2, 1); }, [] { return Inputs{normal({1, 2, 5, 5})}; }, true},
      {"max_pool2d_dilation_ceil", [](const Inputs& x) { return max_pool2d(x[0], 2, 2, 1, 2, true); }, [] { return Inputs{normal({1, 2, 5, 6})}; }},
      {"max_pool2d_ceil_partial_window", [](const Inputs& x) { return max_pool2d(x[0], 3, 2, 0, 1, true); }, [] { return Inputs{normal({1, 1, 6, 5})}; }},
      {"avg_pool2d_ceil_pad", [](const Inputs& x) { return avg_pool2d(x[0], 3, 2, 1, true); }, [] { return Inputs{normal({1, 2, 4, 6})}; }, true},
      {"avg_pool2d_ceil_exclude_pad", [](const Inputs& x) { return avg_pool2d(x[0], 2, 2, 0, true, false); }, [] { return Inputs{normal({1, 1, 5, 3})}; }},
      {"avg_pool2d_divisor_override", [](const Inputs& x) { return avg_pool2d(x[0], 2, 1, 1, false, true, 3); }, [] { return Inputs{normal({1, 2, 3, 3})}; }},
      {"avg_pool2d_exclude_pad", [](const Inputs& x) { return avg_pool2d(x[0], 3, 2, 1, /*ceil_mode=*/false, /*count_include_pad=*/false); }, [] { return Inputs{normal({1, 1, 5, 4})}; }},
      {"conv1d_groups_stride", [](const Inputs& x) { return conv1d(x[0], x[1], x[2], 2, 1, 1, 2); },
       [] { return Inputs{normal({2, 4, 7}), normal({4, 2, 3}), normal({4})}; }, true},
      {"pool1d_max_avg", [](const Inputs& x) { return max_pool1d(x[0], 3, 2, 1) + avg_pool1d(x[0], 3, 2, 1, /*ceil_mode=*/true, /*count_include_pad=*/false); },
       [] { return Inputs{normal({2, 2, 7})}; }},
      {"adaptive_pools_uneven", [](const Inputs& x) { return adaptive_avg_pool2d(x[0], {2, 3}) * adaptive_max_pool2d(x[0], {2, 3}); },
       [] { return Inputs{normal({1, 2, 3, 5})}; }},
      {"adaptive_avg_pool_global", [](const Inputs& x) { return adaptive_avg_pool2d(x[0], 1); }, [] { return Inputs{normal({2, 3, 4, 4})}; }, true},
      {"pixel_shuffle_unshuffle", [](const Inputs& x) { return pixel_shuffle(x[0], 2) * pixel_unshuffle(x[1], 2).sum(); },
       [] { return Inputs{normal({1, 8, 2, 3}), normal({1, 2, 4, 2})}; }},
      {"interpolate_bilinear_and_nearest",
       [](const Inputs& x) {
         return interpolate(x[0], std::vector<int64_t>{5, 4}, std::nullopt, "bilinear", true) +
                interpolate(x[0], std::nullopt, std::vector<double>{5.0 / 3, 2.0});
       },
       [] { return Inputs{normal({1, 2, 3, 2})}; }, true},
      // ---- normalization ----
      {"batch_norm_train_4d",
       [](const Inputs& x) { return batch_norm(x[0], zeros({3}, x[0].dtype()), ones({3}, x[0].dtype()), x[1], x[2], true); },
       [] { return Inputs{normal({4, 3, 2, 2}), normal({3}), normal({3})}; }},
      {"batch_norm_train_2d_no_affine",
       [](const Inputs& x) { return batch_norm(x[0], zeros({3}, x[0].dtype()), ones({3}, x[0].dtype()), Tensor(), Tensor(), true); },
       [] { return Inputs{normal({5, 3})}; }},
      {"batch_norm_eval",
       [](const Inputs& x) {
         return batch_norm(x[0], tensor({0.5, -0.2}, x[0].dtype()), tensor({2.0, 0.5}, x[0].dtype()), x[1], x[2], false);
       },
       [] { return Inputs{normal({3, 2, 2, 2}), normal({2}), normal({2})}; }},
      {"layer_norm_affine", [](const Inputs& x) { return layer_norm(x[0], {4}, x[1], x[2]); },
       [] { return Inputs{normal({2, 3, 4}), normal({4}), normal({4})}; }, true},
      {"layer_norm_two_dims_no_affine", [](const Inputs& x) { return layer_norm(x[0], {2, 3}, Tensor(), Tensor(), 1e-3); },
       [] { return Inputs{normal({3, 2, 3})}; }, true},
      {"layer_norm_weight_only_whole_tensor", [](const Inputs& x) { return layer_norm(x[0], {2, 3}, x[1]); },
       [] { return Inputs{normal({2, 3}), normal({2, 3})}; }, true},
      // ---- attention ----
      {"attention", [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); },
       [] { return Inputs{normal({2, 3, 4}), normal({2, 5, 4}), normal({2, 5, 3})}; }, true},
      {"attention_causal_4d", [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true); },
       [] { return Inputs{normal({2, 2, 4, 3}), normal({2, 2, 4, 3}), normal({2, 2, 4, 2})}; }, true},
      {"attention_causal_rectangular", [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true); },
       [] { return Inputs{normal({1, 3, 2}), normal({1, 5, 2}), normal({1, 5, 2})}; }},
      {"attention_additive_mask_grad_scale",
       [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.0, false, 0.7); },
       [] { return Inputs{normal({2, 3, 4}), normal({2, 5, 4}), normal({2, 5, 3}), normal({3, 5})}; }, true},
      {"attention_bool_mask",
       [](const Inputs& x) {
         const Tensor keep = tensor(std::vector<int64_t>{1, 1, 0, 1, 0, 1, 1, 1, 0, 1}, {2, 1, 5}, kInt64) != 0;
         return scaled_dot_product_attention(x[0], x[1], x[2], keep);
       },
       [] { return Inputs{normal({2, 3, 4}), normal({2, 5, 4}), normal({2, 5, 3})}; }},
      // ---- einsum ----
      {"einsum_bilinear", [](const Inputs& x) { return einsum("bi,oij,bj->bo", {x[0], x[1], x[2]}); },
       [] { return Inputs{normal({3, 4}), normal({2, 4, 5}), normal({3, 5})}; }, true},
      {"einsum_ellipsis_batched", [](const Inputs& x) { return einsum("...qd,...kd->...qk", {x[0], x[1]}); },
       [] { return Inputs{normal({2, 2, 3, 4}), normal({2, 1, 5, 4})}; }, true},
      {"einsum_sum_out_and_transpose", [](const Inputs& x) { return einsum("abc,cd->da", {x[0], x[1]}); },
       [] { return Inputs{normal({2, 3, 4}), normal({4, 2})}; }},
      {"group_norm_affine", [](const Inputs& x) { return group_norm(x[0], 2, x[1], x[2]); },
       [] { return Inputs{normal({2, 4, 3}), normal({4}), normal({4})}; }, true},
      {"instance_norm_rms_norm", [](const Inputs& x) { return instance_norm(x[0]) + rms_norm(x[0], {3}, x[1]); },
       [] { return Inputs{normal({2, 2, 3}), normal({3})}; }, true},
      // ---- embedding ----
      {"embedding_repeated_2d_indices", [](const Inputs& x) { return embedding(indices({1, 3, 1, 0, 3, 3}, {2, 3}), x[0]); },
       [] { return Inputs{normal({4, 3})}; }, true},
      // With padding_idx the weight gradient is not the derivative (padding rows get none, as in
      // PyTorch; values in functions_reference_test), but it is linear in the upstream gradient g:
      // this case checks g -> dWeight (embedding_backward) and, second order, its adjoint.
      {"embedding_backward_padding_idx",
       [](const Inputs& x) {
         AutoGradMode grad_mode(true);  // a gradient even where the caller records nothing
         const Tensor w = zeros({4, 2}, x[0].dtype()).set_requires_grad();
         return autograd::grad({embedding(indices({2, 0, 2, 1}, {4}), w, -2)}, {w}, {x[0]}, std::nullopt, true)[0] * x[1];
       },
       [] { return Inputs{normal({4, 2}), normal({4, 2})}; }, true},
      // ---- losses ----
      {"cross_entropy_weight_kdim_smoothing",
       [](const Inputs& x) {
         const Tensor weight = tensor({0.5, 1.5, 2.0}, x[0].dtype());  // a constant: it gets no gradient
         return cross_entropy(x[0], indices({0, 2, 1, 2, -100, 0}, {2, 3}), weight, Reduction::kMean, 0.1);
       },
       [] { return Inputs{normal({2, 3, 3})}; }, true},
      {"cross_entropy_probability_targets",
       [](const Inputs& x) { return cross_entropy(x[0], softmax(x[1], 1)); }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      {"binary_cross_entropy_weight",
       [](const Inputs& x) { return binary_cross_entropy(x[0], x[1], x[2]); },
       [] { return Inputs{uniform({2, 3}, 0.1, 0.9), uniform({2, 3}, 0, 1), uniform({3}, 0.5, 2)}; }, true},
      {"bce_with_logits_pos_weight",
       [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], Tensor(), x[2], Reduction::kSum); },
       [] { return Inputs{normal({2, 3}), uniform({2, 3}, 0, 1), uniform({3}, 0.5, 3)}; }, true},
      {"smooth_l1_huber_l1", [](const Inputs& x) {
         return smooth_l1_loss(x[0], x[1], Reduction::kSum, 0.7) + huber_loss(x[0], x[1], Reduction::kMean, 0.5) + l1_loss(x[0], x[1]);
       }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }},
      {"kl_div_both_forms", [](const Inputs& x) {
         return kl_div(log_softmax(x[0], 1), softmax(x[1], 1), Reduction::kBatchMean) + kl_div(log_softmax(x[0], 1), log_softmax(x[1], 1), Reduction::kSum, true);
       }, [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      {"triplet_cosine_embedding_ranking", [](const Inputs& x) {
         const Tensor y = tensor({1.0, -1.0, 1.0}, x[0].dtype());
         return triplet_margin_loss(x[0], x[1], x[2], 1.0, 2.0, 1e-6, true) + cosine_embedding_loss(x[0], x[2], y, 0.1) +
                margin_ranking_loss(sum(x[0], 1), sum(x[1], 1), y, 0.2);
       }, [] { return Inputs{normal({3, 4}), normal({3, 4}), normal({3, 4})}; }},
      {"cosine_similarity_pairwise_distance",
       [](const Inputs& x) { return cosine_similarity(x[0], x[1], 1) * pairwise_distance(x[0], x[1], 3.0); },
       [] { return Inputs{normal({3, 4}), normal({3, 4})}; }, true},
      // CTC: the row's gradient is d loss / d log_probs itself, so raw (not log_softmax) inputs
      // check it too; a repeated label needs a blank between; the second sample is shorter.
      {"ctc_loss_padded_mean", [](const Inputs& x) {
         return ctc_loss(log_softmax(x[0], 2), indices({1, 2, 2, 3, 1, 0}, {2, 3}), indices({5, 4}, {2}), indices({3, 2}, {2}));
       }, [] { return Inputs{normal({5, 2, 4})}; }},
      {"ctc_loss_raw_concatenated_blank_last_sum", [](const Inputs& x) {
         return ctc_loss(x[0] - 1.5, indices({0, 1, 1, 2}, {4}), indices({4, 3}, {2}), indices({3, 1}, {2}), /*blank=*/3, Reduction::kSum);
       }, [] { return Inputs{uniform({4, 2, 4}, -1, 0)}; }},
      {"ctc_loss_empty_target_and_zero_infinity", [](const Inputs& x) {
         // sample 0: no labels (all blanks); sample 1: [2, 2] in 2 steps is impossible -> 0.
         return ctc_loss(log_softmax(x[0], 2), indices({2, 2}, {2}), indices({3, 2}, {2}), indices({0, 2}, {2}), 0,
                         Reduction::kNone, /*zero_infinity=*/true);
       }, [] { return Inputs{normal({3, 2, 3})}; }},
      {"cross_entropy_mean", [](const Inputs& x) { return cross_entropy(x[0], indices({1, 0, 3}, {3})); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"cross_entropy_sum_label_smoothing",
       [](const Inputs& x) { return cross_entropy(x[0], indices({1, 0, 3}, {3}), Reduction::kSum, 0.1); }, [] { return Inputs{normal({3, 4})}; }, true},
      {"cross_entropy_ignore_index",
       [](const Inputs& x) { return cross_entropy(x[0], indices({1, -100, 3}, {3}), Reduction::kMean, 0.0, -100); },
       [] { return Inputs{normal({3, 4})}; }},
      {"cross_entropy_none", [](const Inputs& x) { return cross_entropy(x[0], indices({2, 2}, {2}), Reduction::kNone); }, [] { return Inputs{normal({2, 3})}; }},
      {"nll_loss", [](const Inputs& x) { return nll_loss(log_softmax(x[0], 1), indices({0, 2}, {2})); }, [] { return Inputs{normal({2, 3})}; }},
      {"mse_loss", [](const Inputs& x) { return mse_loss(x[0], x[1]); }, [] { return Inputs{normal({3, 2}), normal({3, 2})}; }, true},
      {"mse_loss_sum", [](const Inputs& x) { return mse_loss(x[0], x[1], Reduction::kSum); }, [] { return Inputs{normal({4}), normal({4})}; }},
      {"bce_with_logits",
       [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1]); },
       [] { return Inputs{normal({3, 2}), uniform({3, 2}, 0, 1)}; }, true},
      // The loss is smooth at a logit of 0, where relu and |x| have kinks (a zero-initialised head).
      {"bce_with_logits_at_zero", [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], Reduction::kSum); },
       [] { return Inputs{leaf(ops::Array::zeros({4}, kFloat64)), uniform({4}, 0, 1)}; }, true},
  };
}

}  // namespace tg::test_cases
