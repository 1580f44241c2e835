// tapegrad/tests/errors_test.cc: misuse throws tg::Error with a message naming the op and the
// shapes (never a crash or silent garbage).
#include <cmath>
#include <functional>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

struct ErrorCase {
  std::string name;
  std::function<void()> misuse;
  std::vector<std::string> message_parts;
};

std::ostream& operator<<(std::ostream& os, const ErrorCase& c) { return os << c.name; }

Tensor idx(std::vector<int64_t> v) { return tensor(v); }

std::vector<ErrorCase> cases() {
  return {
      {"matmul_inner_dims", [] { matmul(zeros({2, 3}), zeros({4, 5})); },
       {"matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ"}},
      {"matmul_batch_broadcast", [] { matmul(zeros({2, 2, 3}), zeros({3, 3, 4})); }, {"matmul", "cannot be broadcast"}},
      {"attention_key_size", [] { scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 3}), zeros({2, 5, 3})); },
       {"scaled_dot_product_attention: query [2,3,4], key [2,5,3] and value [2,5,3] do not fit"}},
      {"attention_mask_shape", [] { scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 3}), zeros({3, 4})); },
       {"scaled_dot_product_attention: shapes [3,4] and [2,3,5] cannot be broadcast"}},
      {"attention_mask_and_causal", [] { scaled_dot_product_attention(zeros({1, 2, 2}), zeros({1, 2, 2}), zeros({1, 2, 2}), zeros({2, 2}), 0.0, true); },
       {"give attn_mask or is_causal, not both"}},
      {"attention_dropout_range", [] { scaled_dot_product_attention(zeros({1, 2, 2}), zeros({1, 2, 2}), zeros({1, 2, 2}), {}, 1.0); },
       {"dropout_p must be in [0, 1), got 1"}},
      {"attention_integer_query", [] { scaled_dot_product_attention(arange(4).reshape({1, 2, 2}), zeros({1, 2, 2}), zeros({1, 2, 2})); },
       {"query must be floating, got int64"}},
      {"lstm_cell_gates", [] { fused_lstm_cell(zeros({2, 6}), zeros({2, 1})); },
       {"fused_lstm_cell: gates must be [..., 4H], got [2,6]"}},
      {"lstm_cell_state", [] { fused_lstm_cell(zeros({2, 8}), zeros({3, 2})); },
       {"fused_lstm_cell: cell state [3,2] does not match gates [2,8] (expected [2,2])"}},
      {"lstm_cell_dtype", [] { fused_lstm_cell(zeros({2, 8}), zeros({2, 2}, kFloat64)); },
       {"fused_lstm_cell: gates are float32, cell state float64"}},
      {"channels_last_rank", [] { zeros({2, 3}).contiguous(MemoryFormat::ChannelsLast); },
       {"contiguous: channels_last needs a 4-d tensor [N, C, H, W], got [2,3]"}},
      {"bce_not_probability", [] { binary_cross_entropy(tensor({0.5, 1.5}), tensor({0.0, 1.0})); },
       {"binary_cross_entropy: input 1.5 at 1 is not a probability in [0, 1]"}},
      {"ce_weight_shape", [] { cross_entropy(zeros({2, 3}), idx({0, 1}), zeros({4})); },
       {"cross_entropy: weight [4] float32 should be [3] float32 (one per class)"}},
      {"ce_kdim_target_shape", [] { cross_entropy(zeros({2, 3, 5}), idx({0, 1})); },
       {"cross_entropy: target [2] does not match input [2,3,5] (expected [2,5])"}},
      {"ce_probability_target_shape", [] { cross_entropy(zeros({2, 3}), zeros({2, 4})); },
       {"cross_entropy: target [2,4] float32 is neither int64 class indices nor class probabilities of the input's shape and dtype [2,3] float32"}},
      {"ce_weight_requires_grad", [] { cross_entropy(zeros({2, 3}), idx({0, 1}), ones({3}).set_requires_grad()); },
       {"cross_entropy: the class weight must not require grad"}},
      {"ranking_target_sign", [] { margin_ranking_loss(zeros({2}), zeros({2}), tensor({1.0, 0.0})); },
       {"margin_ranking_loss: target must be 1 or -1, got 0"}},
      {"interpolate_mode", [] { interpolate(zeros({1, 1, 4}), std::vector<int64_t>{8}, std::nullopt, "bilinear"); },
       {"interpolate: mode 'bilinear' is not one of nearest, linear (3-d input), bilinear (4-d input) for input [1,1,4]"}},
      {"interpolate_size_and_scale", [] { interpolate(zeros({1, 1, 4}), std::vector<int64_t>{8}, std::vector<double>{2.0}); },
       {"interpolate: give exactly one of size and scale_factor"}},
      {"einsum_size_mismatch", [] { einsum("ij,jk", {zeros({2, 3}), zeros({4, 5})}); },
       {"einsum: index 'j' is 3 in one operand and 4 in operand 1 ([4,5])"}},
      {"einsum_diagonal", [] { einsum("ii->i", {zeros({3, 3})}); }, {"einsum: index 'i' repeats in operand 0 'ii' (diagonals are not supported)"}},
      {"einsum_rank", [] { einsum("ijk", {zeros({3, 3})}); }, {"einsum: operand 0 'ijk' has 3 indices for a 2-d tensor"}},
      {"einsum_operand_count", [] { einsum("ij,jk->ik", {zeros({3, 3})}); }, {"einsum: 'ij,jk->ik' has 2 operand terms for 1 operands"}},
      {"einsum_unknown_output", [] { einsum("ij->iz", {zeros({3, 3})}); }, {"einsum: output index 'z' is in no operand"}},
      {"embedding_index_range", [] { embedding(idx({0, 7}), zeros({5, 2})); }, {"embedding: index 7 is out of range", "size 5"}},
      {"embedding_float_indices", [] { embedding(zeros({2}), zeros({5, 2})); }, {"embedding: indices must be int64, got float32"}},
      {"embedding_padding_range", [] { embedding(idx({0}), zeros({5, 2}), 5); }, {"embedding: padding_idx 5 is out of range for 5 embeddings"}},
      {"layer_norm_shape", [] { layer_norm(zeros({2, 3}), {2}); }, {"layer_norm: input [2,3] does not end in the normalized shape [2]"}},
      {"layer_norm_weight_shape", [] { layer_norm(zeros({2, 3}), {3}, zeros({2})); },
       {"layer_norm: weight [2] does not match the normalized shape [3] of input [2,3]"}},
      {"add_broadcast", [] { add(zeros({2, 3}), zeros({4})); }, {"add: shapes [2,3] and [4] cannot be broadcast"}},
      // Type promotion covers mixed dtypes (tests/promotion_test.cc); what stays refused:
      {"int_pow_int", [] { pow(arange(3), 2); }, {"pow: expected a floating dtype", "int64"}},
      {"bool_arithmetic", [] { add(tensor({1.0}) > 0, tensor({0.0}) > 0); }, {"add: expected a numeric dtype, got bool"}},
      {"int_floor_divide_by_zero", [] { floor_divide(arange(3), 0); }, {"floor_divide: integer division by zero"}},
      {"int_remainder_by_zero", [] { arange(3) % tensor(std::vector<int64_t>{1, 0, 2}); }, {"remainder: integer division by zero"}},
      {"int_fmod_by_zero", [] { fmod(arange(3), 0); }, {"fmod: integer division by zero"}},
      {"gelu_approximate", [] { gelu(zeros({2}), "fast"); }, {"gelu: approximate must be \"none\" or \"tanh\", got \"fast\""}},
      {"prelu_weight_size", [] { prelu(zeros({2, 3, 4}), zeros({2})); }, {"prelu: weight has 2 values; input [2,3,4] needs 1 or 3"}},
      {"glu_odd", [] { glu(zeros({2, 3})); }, {"glu: dim -1 of [2,3] must have an even size"}},
      {"softplus_beta", [] { softplus(zeros({2}), 0.0); }, {"softplus: beta must be positive, got 0"}},
      {"hardtanh_bounds", [] { hardtanh(zeros({2}), 1.0, -1.0); }, {"hardtanh: min_val 1 > max_val -1"}},
      {"conv_channels", [] { conv2d(zeros({8, 3, 32, 32}), zeros({4, 1, 3, 3})); },
       {"conv2d: input [8,3,32,32] has 3 channels, weight [4,1,3,3] expects 1"}},
      {"conv_negative_padding", [] { conv2d(zeros({1, 1, 5, 5}), zeros({1, 1, 3, 3}), Tensor(), 1, -1); },
       {"conv2d: padding must be non-negative, got [-1,-1]"}},
      {"conv_zero_stride", [] { conv2d(zeros({1, 1, 5, 5}), zeros({1, 1, 3, 3}), Tensor(), 0); },
       {"conv2d: stride must be positive, got [0,0]"}},
      {"conv_kernel_too_large", [] { conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3})); }, {"conv2d", "larger than padded input"}},
      {"conv_input_rank", [] { conv2d(zeros({1, 5, 5}), zeros({1, 1, 3, 3})); }, {"conv2d: input must be 4-D", "[1,5,5]"}},
      {"conv_groups", [] { conv2d(zeros({1, 3, 5, 5}), zeros({2, 1, 3, 3}), Tensor(), 1, 0, 1, 2); }, {"conv2d", "groups=2"}},
      {"conv_transpose_channels", [] { conv_transpose2d(zeros({1, 3, 4, 4}), zeros({2, 3, 3, 3})); },
       {"conv_transpose2d: input [1,3,4,4] has 3 channels, weight [2,3,3,3] expects 2"}},
      {"conv_transpose_output_padding", [] { conv_transpose2d(zeros({1, 2, 4, 4}), zeros({2, 3, 3, 3}), Tensor(), 2, 0, {1, 2}); },
       {"conv_transpose2d: output_padding [1,2] must be non-negative and smaller than the stride [2,2]"}},
      {"conv_transpose_empty_output", [] { conv_transpose2d(zeros({1, 2, 1, 1}), zeros({2, 3, 1, 1}), Tensor(), 1, 1); },
       {"conv_transpose2d", "non-positive output size [-1,-1]"}},
      {"conv_transpose_bias", [] { conv_transpose2d(zeros({1, 2, 4, 4}), zeros({2, 3, 3, 3}), zeros({2})); },
       {"conv_transpose2d: bias [2] does not match 3 output channels"}},
      {"conv_transpose1d_weight_rank", [] { conv_transpose1d(zeros({1, 2, 4}), zeros({2, 3, 3, 3})); },
       {"conv_transpose1d: weight must be [in, out / groups, K], got [2,3,3,3]"}},
      {"ctc_label_is_blank", [] { ctc_loss(zeros({4, 1, 3}), tensor(std::vector<int64_t>{1, 0}, {1, 2}, kInt64), tensor(std::vector<int64_t>{4}, {1}, kInt64), tensor(std::vector<int64_t>{2}, {1}, kInt64)); },
       {"ctc_loss: target 1 of sample 0 is 0, not a class in [0, 3) other than blank 0"}},
      {"ctc_input_length", [] { ctc_loss(zeros({4, 1, 3}), tensor(std::vector<int64_t>{1}, {1, 1}, kInt64), tensor(std::vector<int64_t>{5}, {1}, kInt64), tensor(std::vector<int64_t>{1}, {1}, kInt64)); },
       {"ctc_loss: input_lengths[0] = 5 is outside [0, 4]"}},
      {"ctc_target_length", [] { ctc_loss(zeros({4, 1, 3}), tensor(std::vector<int64_t>{1}, {1, 1}, kInt64), tensor(std::vector<int64_t>{4}, {1}, kInt64), tensor(std::vector<int64_t>{2}, {1}, kInt64)); },
       {"ctc_loss: target_lengths[0] = 2 exceeds the targets' length 1"}},
      {"ctc_concatenated_count", [] { ctc_loss(zeros({4, 2, 3}), tensor(std::vector<int64_t>{1, 2}, {2}, kInt64), tensor(std::vector<int64_t>{4, 4}, {2}, kInt64), tensor(std::vector<int64_t>{2, 1}, {2}, kInt64)); },
       {"ctc_loss: concatenated targets [2] must hold the sum of target_lengths, 3"}},
      {"ctc_float_lengths", [] { ctc_loss(zeros({4, 1, 3}), tensor(std::vector<int64_t>{1}, {1, 1}, kInt64), zeros({1}), tensor(std::vector<int64_t>{1}, {1}, kInt64)); },
       {"ctc_loss: input_lengths must be a 1-d int64 tensor, got float32 [1]"}},
      {"conv_bias", [] { conv2d(zeros({1, 1, 5, 5}), zeros({2, 1, 3, 3}), zeros({3})); }, {"conv2d: bias [3]", "2 output channels"}},
      {"max_pool_zero_stride", [] { max_pool2d(zeros({1, 1, 4, 4}), 2, Size2(0)); }, {"max_pool2d: stride must be positive"}},
      {"avg_pool_negative_padding", [] { avg_pool2d(zeros({1, 1, 4, 4}), 2, 2, -1); }, {"avg_pool2d: padding must be non-negative"}},
      {"pool_kernel_too_large", [] { max_pool2d(zeros({1, 1, 2, 2}), 3); }, {"max_pool2d", "larger than padded input"}},
      {"pool_dilated_kernel_too_large", [] { max_pool2d(zeros({1, 1, 4, 4}), 2, 1, 0, 4); },
       {"max_pool2d: kernel [2,2] (dilation [4,4]) is larger than padded input [1,1,4,4]"}},
      {"pool_zero_dilation", [] { max_pool2d(zeros({1, 1, 4, 4}), 2, 1, 0, 0); }, {"max_pool2d: dilation must be positive"}},
      {"pool_zero_divisor", [] { avg_pool2d(zeros({1, 1, 4, 4}), 2, 1, 0, false, true, 0); },
       {"avg_pool2d: divisor_override must be positive, got 0"}},
      {"index_select_out_of_range", [] { index_select(zeros({3, 2}), 0, idx({0, 3})); },
       {"index_select: index 3 is out of range for dimension 0 of size 3"}},
      {"index_select_negative", [] { index_select(zeros({3, 2}), 1, idx({-1})); }, {"index_select: index -1 is out of range"}},
      {"gather_out_of_range", [] { gather(zeros({2, 2}), 1, tensor(std::vector<int64_t>{0, 2}, {2, 1})); },
       {"gather: index 2 is out of range for dimension 1 of size 2"}},
      {"index_dtype", [] { index_select(zeros({3}), 0, zeros({1})); }, {"index_select: index must be int64, got float32"}},
      {"cross_entropy_target_range", [] { cross_entropy(zeros({2, 10}), idx({3, 12})); },
       {"cross_entropy: target 12 at position 1 is out of range for 10 classes"}},
      {"cross_entropy_target_shape", [] { cross_entropy(zeros({2, 10}), idx({3})); }, {"cross_entropy: target [1] does not match input [2,10]"}},
      {"cross_entropy_target_dtype", [] { cross_entropy(zeros({2, 10}), zeros({2})); }, {"cross_entropy: target [2] float32 is neither int64 class indices nor class probabilities"}},
      {"mse_shapes", [] { mse_loss(zeros({2}), zeros({3})); }, {"mse_loss: input [2] and target [3] differ"}},
      {"reshape_size", [] { reshape(zeros({2, 3}), {4, 2}); }, {"reshape: shape [4,2] is invalid for input of size 6"}},
      {"reshape_two_inferred", [] { reshape(zeros({2, 3}), {-1, -1}); }, {"reshape: only one dimension can be -1"}},
      {"view_noncontiguous", [] { view(zeros({2, 3}).t(), {6}); }, {"view:", "not compatible with the strides", "reshape"}},
      {"permute_repeat", [] { permute(zeros({2, 3}), {0, 0}); }, {"permute: dimension 0 repeated"}},
      // Found by the ONNX fuzzer (a Tile of 8.3e18 repeats): an error, not an integer overflow.
      {"repeat_overflow", [] { repeat(zeros({2, 3}), {1, int64_t{1} << 62}); }, {"repeat: counts [1,4611686018427387904] of a tensor of shape [2,3] overflow a 64-bit size"}},
      {"repeat_interleave_overflow", [] { repeat_interleave(zeros({2, 3}), int64_t{1} << 62, 1); }, {"repeat_interleave: 4611686018427387904 repeats of dim 1 of shape [2,3] overflow a 64-bit size"}},
      {"dim_out_of_range", [] { sum(zeros({2, 3}), {2}); }, {"sum: dimension 2 out of range for a 2-d tensor"}},
      {"narrow_out_of_range", [] { narrow(zeros({4}), 0, 3, 2); }, {"narrow: range [3, 5) out of bounds for dimension 0 of size 4"}},
      {"slice_step", [] { slice(zeros({4}), 0, 0, 4, 0); }, {"slice: step must be positive"}},
      {"expand_incompatible", [] { expand(zeros({3}), {2, 4}); }, {"expand: cannot expand [3] to [2,4]"}},
      {"cat_shapes", [] { cat({zeros({2, 3}), zeros({3, 3})}, 1); }, {"cat: tensor 1 [3,3] does not match tensor 0 [2,3] in dimension 0"}},
      {"cat_empty", [] { cat({}); }, {"cat: expected a non-empty list"}},
      {"linear_features", [] { linear(zeros({2, 5}), zeros({3, 4})); }, {"linear: input [2,5] has 5 features, weight [3,4] expects 4"}},
      {"batch_norm_channels", [] { batch_norm(zeros({2, 3}), zeros({4}), ones({4}), Tensor(), Tensor(), true); },
       {"batch_norm: running_mean [4] does not match 3 channels"}},
      {"batch_norm_single_value", [] { batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
       {"batch_norm: expected more than 1 value per channel"}},
      {"dropout_probability", [] { dropout(zeros({2}), 1.5); }, {"dropout: probability must be in [0, 1], got 1.5"}},
      {"softmax_dim", [] { softmax(zeros({2, 3}), 3); }, {"softmax: dimension 3 out of range"}},
      {"max_of_empty", [] { max(zeros({0})); }, {"max", "empty"}},
      {"item_of_many", [] { zeros({2}).item(); }, {"item: expected a one-element tensor, got shape [2]"}},
      {"negative_shape", [] { zeros({2, -3}); }, {"negative dimension in shape [2,-3]"}},
      {"overflowing_shape", [] { zeros({int64_t{1} << 62, 4}); }, {"overflows int64"}},
      {"huge_allocation", [] { zeros({int64_t{1} << 50}); }, {"out of range"}},
      {"undefined_tensor", [] { Tensor().shape(); }, {"tensor is undefined"}},
      {"backward_wrong_grad_shape", [] { (zeros({2}).set_requires_grad() * 2.0).backward(zeros({3})); },
       {"backward: gradient of shape [3] for tensor of shape [2]"}},
      {"clamp_bounds", [] { clamp(zeros({2}), 1.0, 0.0); }, {"clamp: min 1 > max 0"}},
      {"float_op_on_int", [] { frac(idx({1})); }, {"frac: expected a floating dtype", "int64"}},
  };
}

class Errors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(Errors, ThrowWithAClearMessage) {
  const ErrorCase& c = GetParam();
  try {
    c.misuse();
    FAIL() << c.name << ": no error thrown";
  } catch (const Error& e) {
    for (const std::string& part : c.message_parts) EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(Misuse, Errors, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// Zero-size dimensions are valid shapes, not errors: ops return empty results of the right shape
// and reductions over nothing return their identity (sum 0; mean NaN, as in PyTorch).
TEST(EmptyTensors, GiveWellDefinedResults) {
  EXPECT_EQ(relu(zeros({0, 3})).shape(), Shape({0, 3}));
  EXPECT_EQ(add(zeros({0, 3}), zeros({3})).shape(), Shape({0, 3}));
  EXPECT_EQ(sum(zeros({0, 3})).item(), 0.0);
  EXPECT_EQ(sum(zeros({0, 3}), {0}).shape(), Shape({3}));
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item()));
  EXPECT_EQ(matmul(zeros({0, 3}), zeros({3, 4})).shape(), Shape({0, 4}));
  const Tensor inner_empty = matmul(ones({2, 0}), ones({0, 4}));  // sums over nothing: zeros
  EXPECT_EQ(inner_empty.shape(), Shape({2, 4}));
  EXPECT_EQ(sum(abs(inner_empty)).item(), 0.0);
  EXPECT_EQ(conv2d(zeros({0, 1, 5, 5}), zeros({2, 1, 3, 3}), zeros({2})).shape(), Shape({0, 2, 3, 3}));
  EXPECT_EQ(conv_transpose2d(zeros({0, 2, 3, 3}), zeros({2, 1, 3, 3}), zeros({1}), 2).shape(), Shape({0, 1, 7, 7}));
  EXPECT_EQ(max_pool2d(zeros({0, 1, 4, 4}), 2).shape(), Shape({0, 1, 2, 2}));
  EXPECT_EQ(cat({zeros({0, 2}), ones({1, 2})}, 0).shape(), Shape({1, 2}));
  Tensor x = zeros({0, 3}).set_requires_grad();
  sum(x * 2.0).backward();
  EXPECT_EQ(x.grad().shape(), Shape({0, 3}));
}

}  // namespace
}  // namespace tg
