// tapegrad/tests/functions_reference_test.cc: indexing, rearranging and reductions against
// Debian's PyTorch (tests/reference/functions_reference.py): the same named expressions on
// arange(24) as [2, 3, 4] or on the case's own input (zeros, ties, NaN), compared in shape, values
// and the gradient of a weighted sum; every entry needs an expression here and every expression an
// entry. Plus the errors a bad index gets.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

#include <cmath>
#include <limits>

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
#include "tests/reference/functions_reference.inc"

using namespace indexing;  // NOLINT(build/namespaces): Slice, None, Ellipsis as in LibTorch code
using ::testing::HasSubstr;

Tensor ints(const std::vector<int64_t>& v, const Shape& s) { return tensor(v, s, kInt64); }
// functions_reference.py's loss constants.
Tensor t6() { return ints({1, -100, 3, 0, 2, 3}, {6}); }
Tensor t24() { return ints({0, 2, 1, 1, 2, 0, 0, 1}, {2, 4}); }
Tensor w4() { return linspace(0.5, 2, 4, kFloat64); }
Tensor w3() { return tensor(std::vector<double>{0.2, 1.0, 2.5}, {3}, kFloat64); }
Tensor probs() { return softmax(flip(reshape(arange(24, kFloat64), {6, 4}), {1}) / 5, 1); }
Tensor probs_k() { return softmax(reshape(arange(24, kFloat64), {2, 3, 4}) / 7, 1); }
Tensor binary() { return expand(tensor(std::vector<double>{0.0, 1.0, 0.25, 1.0}, {4}, kFloat64), {2, 3, 4}); }
Tensor signs(int64_t n) {
  const std::vector<double> v{1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1};
  return tensor(std::vector<double>(v.begin(), v.begin() + n), {n}, kFloat64);
}
Tensor kl_target() { return expand(tensor(std::vector<double>{0.5, 0.0, 0.25, 0.25}, {4}, kFloat64), {6, 4}); }

// functions_reference.py's KEEP: which of 3 keys each of 3 queries attends to.
Tensor keep_mask() { return ints({1, 0, 1, 0, 1, 1, 1, 1, 0}, {3, 3}) != 0; }
Tensor mask() {
  return tensor(std::vector<double>{1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0}, {3, 4}, kFloat64) > 0.5;
}
Tensor flat_cat(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flat;
  for (size_t i = 0; i < parts.size(); ++i) flat.push_back(reshape(parts[i], {-1}) * static_cast<double>(i + 1));
  return cat(flat);
}

const std::vector<double>* find(const std::string& name);

// A case's own input (NAME/input, NAME/input_shape), or arange(24) as [2, 3, 4].
Tensor ref_input(const std::string& name) {
  const std::vector<double>* values = find(name + "/input");
  if (!values) return reshape(arange(24, kFloat64), {2, 3, 4});
  Shape shape;
  for (double d : *find(name + "/input_shape")) shape.push_back(static_cast<int64_t>(d));
  return tensor(*values, shape, kFloat64);
}

// Equal, NaN where PyTorch has NaN.
void expect_same(const std::vector<double>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << "[" << i << "] = " << got[i] << ", PyTorch NaN";
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i]))) << what << "[" << i << "]";
    }
  }
}

const std::map<std::string, std::function<Tensor(const Tensor&)>>& expressions() {
  static const auto* table = new std::map<std::string, std::function<Tensor(const Tensor&)>>{
      {"index_int_slice_none", [](const Tensor& x) { return x.index({0, Slice(1, -1), None}); }},
      {"index_ellipsis_last", [](const Tensor& x) { return x.index({"...", -1}); }},
      {"index_step_slice", [](const Tensor& x) { return x.index({Slice(), Slice(None, None, 2), Slice(1, 4, 2)}); }},
      {"index_negative_int", [](const Tensor& x) { return x.index({-1, -2}); }},
      {"index_tensor", [](const Tensor& x) { return x.index({Slice(), ints({2, 0, -1, 2}, {4})}); }},
      {"index_tensor_2d", [](const Tensor& x) { return x.index({1, Slice(), ints({0, 3, 1, 1}, {2, 2})}); }},
      {"index_bool_mask", [](const Tensor& x) { return x.index({Slice(), mask()}); }},
      {"index_true", [](const Tensor& x) { return x.index({true, 0}); }},
      {"select_negative", [](const Tensor& x) { return x.select(1, -1); }},
      {"narrow_negative", [](const Tensor& x) { return narrow(x, 2, -2, 2); }},
      {"chunk_uneven", [](const Tensor& x) { return flat_cat(x.chunk(3, 2)); }},
      {"split_sizes", [](const Tensor& x) { return flat_cat(split(x, std::vector<int64_t>{1, 2}, 1)); }},
      {"unbind_1", [](const Tensor& x) { return flat_cat(x.unbind(1)); }},
      {"flip_0_2", [](const Tensor& x) { return x.flip({0, 2}); }},
      {"roll_dims", [](const Tensor& x) { return roll(x, {1, -3}, {1, 2}); }},
      {"roll_flat", [](const Tensor& x) { return roll(x, 5); }},
      {"repeat", [](const Tensor& x) { return x.select(0, 0).repeat({2, 1, 3}); }},
      {"repeat_interleave_dim", [](const Tensor& x) { return repeat_interleave(x, 2, 1); }},
      {"repeat_interleave_flat", [](const Tensor& x) { return repeat_interleave(x.index({0, 0}), 3); }},
      {"repeat_interleave_tensor", [](const Tensor& x) { return repeat_interleave(x, ints({2, 0, 1}, {3}), 1); }},
      {"tril", [](const Tensor& x) { return tril(x); }},
      {"triu_1", [](const Tensor& x) { return triu(x, 1); }},
      {"tril_minus1", [](const Tensor& x) { return tril(x, -1); }},
      {"masked_fill", [](const Tensor& x) { return x.masked_fill(mask(), -1.5); }},
      {"masked_select", [](const Tensor& x) { return masked_select(x, mask()); }},
      {"pad_constant", [](const Tensor& x) { return pad(x, {1, 2, 0, 1}, "constant", 0.5); }},
      {"pad_crop", [](const Tensor& x) { return pad(x, {-1, 2, 1, -1}); }},
      {"pad_reflect", [](const Tensor& x) { return pad(x, {2, 3, 1, 2}, "reflect"); }},
      {"pad_replicate", [](const Tensor& x) { return pad(x, {2, 1, 2, 0}, "replicate"); }},
      {"var_all", [](const Tensor& x) { return var(x); }},
      {"var_dim_biased_keepdim", [](const Tensor& x) { return var(x, {0, 2}, /*unbiased=*/false, /*keepdim=*/true); }},
      {"std_dim", [](const Tensor& x) { return tg::std(x, 1); }},
      {"prod_all_one_zero", [](const Tensor& x) { return prod(x); }},
      {"prod_dim_zeros", [](const Tensor& x) { return prod(x, 1); }},
      {"prod_dim_keepdim", [](const Tensor& x) { return prod(x / 10, 2, true); }},
      {"layer_norm_constant_row", [](const Tensor& x) { return layer_norm(x, {3}); }},
      {"cumsum_dim1", [](const Tensor& x) { return cumsum(x, 1); }},
      {"cumprod_zeros", [](const Tensor& x) { return cumprod(x, 1); }},
      {"norm2_zero_row", [](const Tensor& x) { return norm(x, 2, 1); }},
      {"norm2_all", [](const Tensor& x) { return norm(x); }},
      {"norm1_dim", [](const Tensor& x) { return norm(x, 1, 0); }},
      {"norm3_dim", [](const Tensor& x) { return norm(x, 3, 1, true); }},
      {"norm_inf_dim", [](const Tensor& x) { return norm(x, INFINITY, 1); }},
      {"sort_ties_nan", [](const Tensor& x) { return std::get<0>(sort(x, 1)); }},
      {"sort_descending", [](const Tensor& x) { return std::get<0>(sort(x, 0, true)); }},
      {"topk_largest", [](const Tensor& x) { return std::get<0>(topk(x, 2, 1)); }},
      {"topk_smallest_dim0", [](const Tensor& x) { return std::get<0>(topk(x, 2, 0, false)); }},
      {"sort_indices", [](const Tensor&) { return std::get<1>(sort(ref_input("sort_ties_nan"), 1)); }},
      {"argsort_descending", [](const Tensor&) { return argsort(ref_input("sort_ties_nan"), 0, true); }},
      {"argmin_ties", [](const Tensor&) { return argmin(reshape(narrow(reshape(ref_input("sort_ties_nan"), {-1}), 0, 4, 8), {2, 4}), 1); }},
      {"argmin_all", [](const Tensor&) { return argmin(ref_input("prod_dim_zeros")); }},
      {"any_all_dim", [](const Tensor& x) { return stack({any(remainder(x, 7) == 0, 2), all(x > 0, 2)}); }},
      {"any_all", [](const Tensor& x) { return stack({any(x > 22), all(x >= 0), any(x < 0)}); }},
      {"nonzero", [](const Tensor& x) { return nonzero(remainder(x, 5) == 1); }},
      {"one_hot", [](const Tensor&) { return one_hot(ints({2, 0, 1, 3}, {2, 2}), 5); }},
      {"one_hot_infer", [](const Tensor&) { return one_hot(ints({0, 2, 1}, {3})); }},
      {"attention_causal", [](const Tensor& x) { return scaled_dot_product_attention(x / 10, flip(x, {1}) / 10, x, {}, 0.0, true); }},
      {"attention_bool_mask_scale",
       [](const Tensor& x) { return scaled_dot_product_attention(x / 10, flip(x, {2}) / 10, x * x / 20, keep_mask(), 0.0, false, 0.3); }},
      {"attention_additive_mask",
       [](const Tensor& x) { return scaled_dot_product_attention(x / 10, x / 9, x, reshape(linspace(-1, 1, 9, kFloat64), {3, 3})); }},
      {"attention_fully_masked_row",
       [](const Tensor& x) {
         const Tensor d = x.detach();  // values only: the masked row is NaN
         return scaled_dot_product_attention(d / 10, d / 10, d, ints({1, 1, 1, 0, 0, 0, 1, 1, 1}, {3, 3}) != 0);
       }},
      {"einsum_bmm", [](const Tensor& x) { return einsum("bij,bjk->bik", {x, transpose(x, 1, 2) / 10}); }},
      {"einsum_implicit_outer", [](const Tensor& x) { return einsum("bij,k", {x, arange(3, kFloat64)}); }},
      {"einsum_ellipsis_broadcast",
       [](const Tensor& x) { return einsum("...ij,jk->...ik", {x, reshape(linspace(-1, 1, 8, kFloat64), {4, 2})}); }},
      {"einsum_bilinear",
       [](const Tensor& x) { return einsum("bi,oij,bj->bo", {select(x, 0, 0), reshape(linspace(-1, 1, 32, kFloat64), {2, 4, 4}), select(x, 0, 1)}); }},
      {"einsum_attention_scores", [](const Tensor& x) { return einsum("bqd,bkd->bqk", {x, flip(x, {1})}); }},
      {"einsum_reduce_and_scalar", [](const Tensor& x) { return cat({einsum("bij->j", {x}), reshape(einsum("bij->", {x}), {1})}); }},
      {"einsum_transpose", [](const Tensor& x) { return einsum("b i j -> j b i", {x}); }},
      {"einsum_broadcast_size1", [](const Tensor& x) { return einsum("bij,bjk->bik", {narrow(x, 0, 0, 1), transpose(x, 1, 2)}); }},
      {"einsum_three_operands_chain",
       [](const Tensor& x) { return einsum("ij,jk,kl->il", {select(x, 0, 0), transpose(select(x, 0, 1), 0, 1) / 10, select(x, 0, 0) / 10}); }},
      {"ce_weight_kdim", [](const Tensor& x) { return cross_entropy(x / 10, t24(), w3()); }},
      {"ce_weight_smoothing_ignore", [](const Tensor& x) { return cross_entropy(reshape(x, {6, 4}) / 7, t6(), w4(), Reduction::kMean, 0.2); }},
      {"ce_smoothing_ignore_no_weight", [](const Tensor& x) { return cross_entropy(reshape(x, {6, 4}) / 7, t6(), Reduction::kMean, 0.2); }},
      {"ce_weight_smoothing_none", [](const Tensor& x) { return cross_entropy(reshape(x, {6, 4}) / 7, t6(), w4(), Reduction::kNone, 0.3); }},
      {"ce_prob_targets_weight_smoothing", [](const Tensor& x) { return cross_entropy(reshape(x, {6, 4}) / 9, probs(), w4(), Reduction::kMean, 0.1); }},
      {"ce_prob_targets_kdim_sum", [](const Tensor& x) { return cross_entropy(x / 8, probs_k(), Reduction::kSum); }},
      {"nll_weight_none", [](const Tensor& x) { return nll_loss(log_softmax(reshape(x, {6, 4}) / 5, 1), t6(), w4(), Reduction::kNone); }},
      {"nll_weight_mean_kdim", [](const Tensor& x) { return nll_loss(log_softmax(x / 5, 1), t24(), w3()); }},
      {"bce_weight", [](const Tensor& x) { return binary_cross_entropy(sigmoid(x / 10 - 1.2), binary(), w4()); }},
      {"bce_logits_weight_pos_weight",
       [](const Tensor& x) { return binary_cross_entropy_with_logits(x / 5 - 2, binary(), w4(), flip(w4(), {0}) * 2); }},
      {"l1_with_zero", [](const Tensor& x) { return l1_loss(x / 5, full({2, 3, 4}, 1.0, kFloat64)); }},
      {"smooth_l1_at_beta", [](const Tensor& x) { return smooth_l1_loss(x / 5, zeros({2, 3, 4}, kFloat64), Reduction::kSum, 1.0); }},
      {"smooth_l1_beta_zero", [](const Tensor& x) { return smooth_l1_loss(x / 5, full({2, 3, 4}, 2.0, kFloat64), Reduction::kMean, 0.0); }},
      {"huber_at_delta", [](const Tensor& x) { return huber_loss(x / 5, zeros({2, 3, 4}, kFloat64), Reduction::kNone, 1.0); }},
      {"kl_div_batchmean", [](const Tensor& x) { return kl_div(log_softmax(reshape(x, {6, 4}) / 5, 1), kl_target(), Reduction::kBatchMean); }},
      {"kl_div_log_target_sum",
       [](const Tensor& x) { return kl_div(log_softmax(reshape(x, {6, 4}) / 5, 1), log(probs()), Reduction::kSum, true); }},
      {"margin_ranking",
       [](const Tensor& x) { return margin_ranking_loss(reshape(select(x, 0, 0), {-1}) / 10, reshape(select(x, 0, 1), {-1}) / 12, signs(12), 0.3); }},
      {"triplet_swap",
       [](const Tensor& x) { return triplet_margin_loss(select(x, 0, 0) / 10, select(x, 0, 1) / 12, flip(select(x, 0, 0), {0}) / 9, 1.0, 2.0, 1e-6, true); }},
      {"triplet_p1_none",
       [](const Tensor& x) {
         return triplet_margin_loss(select(x, 0, 0) / 10, flip(select(x, 0, 1), {1}) / 12, select(x, 0, 1) / 9, 0.5, 1.0, 1e-6, false, Reduction::kNone);
       }},
      {"cosine_embedding",
       [](const Tensor& x) { return cosine_embedding_loss(select(x, 0, 0) / 10, flip(select(x, 0, 1), {1}) / 10, signs(3), 0.2); }},
      {"cosine_similarity_dim2", [](const Tensor& x) { return cosine_similarity(x, flip(x, {2}) - 11, 2); }},
      {"pairwise_distance_p3_keepdim", [](const Tensor& x) { return pairwise_distance(select(x, 0, 0) / 10, select(x, 0, 1) / 7, 3.0, 1e-6, true); }},
      {"group_norm_affine",
       [](const Tensor& x) { return group_norm(reshape(x, {2, 4, 3}) / 5, 2, linspace(0.5, 2, 4, kFloat64), linspace(-1, 1, 4, kFloat64)); }},
      {"group_norm_4d_eps", [](const Tensor& x) { return group_norm(reshape(x, {1, 6, 2, 2}), 3, {}, {}, 1e-2); }},
      {"instance_norm_affine",
       [](const Tensor& x) {
         return instance_norm(x / 3, tensor(std::vector<double>{2.0, 0.5, 1.0}, {3}, kFloat64), tensor(std::vector<double>{0.1, 0.0, -0.1}, {3}, kFloat64));
       }},
      {"rms_norm_weight", [](const Tensor& x) { return rms_norm(x / 5, {4}, linspace(0.5, 2, 4, kFloat64), 1e-6); }},
      {"rms_norm_default_eps_two_dims", [](const Tensor& x) { return rms_norm(x, {3, 4}); }},
      {"conv1d_stride_pad_dilation",
       [](const Tensor& x) {
         return conv1d(x / 10, reshape(linspace(-1, 1, 12, kFloat64), {2, 3, 2}), tensor(std::vector<double>{0.5, -0.5}, {2}, kFloat64), 2, 1, 2);
       }},
      {"conv_transpose2d_stride_pad_output_padding",
       [](const Tensor& x) {
         return conv_transpose2d(reshape(x, {1, 2, 3, 4}) / 10, reshape(linspace(-1, 1, 36, kFloat64), {2, 3, 3, 2}),
                                 tensor(std::vector<double>{0.5, -0.5, 0.25}, {3}, kFloat64), {2, 3}, {1, 0}, {1, 2});
       }},
      {"conv_transpose2d_groups_dilation",
       [](const Tensor& x) {
         return conv_transpose2d(reshape(x, {1, 4, 2, 3}) / 10, reshape(linspace(-1, 1, 24, kFloat64), {4, 1, 2, 3}), {}, 2, 1, 1, 2, {2, 1});
       }},
      {"conv_transpose1d_stride_pad_output_padding",
       [](const Tensor& x) {
         return conv_transpose1d(x / 10, reshape(linspace(-1, 1, 18, kFloat64), {3, 2, 3}), tensor(std::vector<double>{0.5, -0.5}, {2}, kFloat64), 2, 1, 1);
       }},
      {"conv_transpose1d_groups_dilation",
       [](const Tensor& x) { return conv_transpose1d(reshape(x, {1, 6, 4}) / 10, reshape(linspace(-1, 1, 24, kFloat64), {6, 2, 2}), {}, 1, 0, 0, 3, 2); }},
      {"ctc_loss_padded_mean",
       [](const Tensor& x) { return ctc_loss(log_softmax(reshape(x, {6, 1, 4}) / 5, 2), ints({1, 3, 3}, {1, 3}), ints({6}, {1}), ints({3}, {1})); }},
      {"ctc_loss_concatenated_blank_sum",
       [](const Tensor& x) {
         return ctc_loss(log_softmax(reshape(sin(x), {3, 2, 4}), 2), ints({1, 0, 1}, {3}), ints({3, 2}, {2}), ints({2, 1}, {2}), 2, Reduction::kSum);
       }},
      {"ctc_loss_impossible_zero_infinity_none",
       [](const Tensor& x) {
         return ctc_loss(log_softmax(reshape(cos(x), {3, 2, 4}), 2), ints({1, 0, 3, 3}, {2, 2}), ints({3, 2}, {2}), ints({1, 2}, {2}), 0,
                         Reduction::kNone, true);
       }},
      {"conv1d_groups", [](const Tensor& x) { return conv1d(reshape(x, {1, 6, 4}) / 10, reshape(linspace(-1, 1, 12, kFloat64), {4, 3, 1}), {}, 1, 0, 1, 2); }},
      {"max_pool1d_pad", [](const Tensor& x) { return max_pool1d(sin(x), 2, 1, 1); }},
      {"max_pool1d_dilation_ceil", [](const Tensor& x) { return max_pool1d(sin(x), 2, 2, 1, 2, true); }},
      {"avg_pool1d_ceil", [](const Tensor& x) { return avg_pool1d(x, 3, 2, 0, true); }},
      {"avg_pool1d_exclude_pad", [](const Tensor& x) { return avg_pool1d(x, 3, 2, 1, /*ceil_mode=*/false, /*count_include_pad=*/false); }},
      {"adaptive_avg_pool2d_uneven", [](const Tensor& x) { return adaptive_avg_pool2d(reshape(x, {1, 2, 3, 4}), {2, 3}); }},
      {"adaptive_avg_pool2d_global", [](const Tensor& x) { return adaptive_avg_pool2d(reshape(x, {2, 3, 2, 2}), 1); }},
      {"adaptive_avg_pool2d_divisible", [](const Tensor& x) { return adaptive_avg_pool2d(reshape(x, {1, 1, 4, 6}), {2, 3}); }},
      {"adaptive_avg_pool1d_unbatched", [](const Tensor& x) { return adaptive_avg_pool1d(select(x, 0, 0), 3); }},
      {"adaptive_max_pool2d_uneven", [](const Tensor& x) { return adaptive_max_pool2d(reshape(sin(x), {1, 2, 3, 4}), {2, 3}); }},
      {"max_pool2d_ceil", [](const Tensor& x) { return max_pool2d(reshape(sin(x), {1, 2, 3, 4}), 2, std::nullopt, 0, 1, true); }},
      {"max_pool2d_dilation_pad_ceil", [](const Tensor& x) { return max_pool2d(reshape(sin(x), {1, 1, 4, 6}), 2, 2, 1, 2, true); }},
      {"max_pool2d_dilation_rect",
       [](const Tensor& x) { return max_pool2d(reshape(sin(x), {1, 1, 4, 6}), {2, 3}, Size2(1), {1, 0}, {3, 2}); }},
      {"avg_pool2d_ceil", [](const Tensor& x) { return avg_pool2d(reshape(x, {1, 2, 3, 4}), 2, std::nullopt, 0, true); }},
      {"avg_pool2d_ceil_pad_include", [](const Tensor& x) { return avg_pool2d(reshape(x, {1, 1, 4, 6}), 3, 2, 1, true); }},
      {"avg_pool2d_ceil_pad_exclude", [](const Tensor& x) { return avg_pool2d(reshape(x, {1, 1, 4, 6}), 3, 2, 1, true, false); }},
      {"avg_pool2d_divisor_override", [](const Tensor& x) { return avg_pool2d(reshape(x, {1, 2, 3, 4}), 2, 1, 1, false, true, 3); }},
      {"adaptive_max_pool2d_divisible", [](const Tensor& x) { return adaptive_max_pool2d(reshape(sin(x), {1, 1, 4, 6}), {2, 2}); }},
      {"pixel_shuffle", [](const Tensor& x) { return pixel_shuffle(reshape(x, {1, 8, 3, 1}), 2); }},
      {"pixel_unshuffle", [](const Tensor& x) { return pixel_unshuffle(reshape(x, {1, 1, 4, 6}), 2); }},
      {"interpolate_nearest_size", [](const Tensor& x) { return interpolate(reshape(x, {1, 2, 3, 4}), std::vector<int64_t>{5, 7}); }},
      {"interpolate_nearest_scale", [](const Tensor& x) { return interpolate(x, std::nullopt, std::vector<double>{2.5}); }},
      {"interpolate_bilinear",
       [](const Tensor& x) { return interpolate(reshape(x, {1, 2, 3, 4}), std::vector<int64_t>{5, 3}, std::nullopt, "bilinear", false); }},
      {"interpolate_bilinear_align_corners",
       [](const Tensor& x) { return interpolate(reshape(x, {1, 2, 3, 4}), std::vector<int64_t>{4, 7}, std::nullopt, "bilinear", true); }},
      {"interpolate_bilinear_scale",
       [](const Tensor& x) { return interpolate(reshape(x, {1, 2, 3, 4}), std::nullopt, std::vector<double>{1.5, 0.75}, "bilinear"); }},
      {"interpolate_linear_align", [](const Tensor& x) { return interpolate(x, std::vector<int64_t>{6}, std::nullopt, "linear", true); }},
      {"layer_norm_affine",
       [](const Tensor& x) {
         return layer_norm(x, {4}, linspace(0.5, 2, 4, kFloat64), tensor(std::vector<double>{0.1, -0.2, 0.3, 0.0}, {4}, kFloat64));
       }},
      {"layer_norm_two_dims", [](const Tensor& x) { return layer_norm(x / 7, {3, 4}, {}, {}, 1e-3); }},
      {"embedding_padding", [](const Tensor& x) { return embedding(ints({2, 0, 2, 5}, {2, 2}), reshape(x, {6, 4}), 2); }},
      {"embedding_padding_negative", [](const Tensor& x) { return embedding(ints({5, 1, 5}, {3}), reshape(x, {6, 4}), -1); }},
      {"embedding_max_norm", [](const Tensor& x) { return embedding(ints({4, 0, 4, 1}, {4}), reshape(x, {6, 4}).clone(), std::nullopt, 20.0); }},
      {"embedding_max_norm_1",
       [](const Tensor& x) { return embedding(ints({3, 1}, {2}), reshape(x, {6, 4}).clone(), std::nullopt, 30.0, 1.0); }},
      {"linspace_odd", [](const Tensor&) { return linspace(-1, 2.5, 11, kFloat64); }},
      {"linspace_even_descending", [](const Tensor&) { return linspace(3, -0.7, 8, kFloat64); }},
      {"linspace_one_and_none", [](const Tensor&) { return cat({linspace(4, 9, 1, kFloat64), linspace(4, 9, 0, kFloat64)}); }},
      {"arange_float_step", [](const Tensor&) { return arange(0, 1, 0.3, kFloat64); }},
      {"arange_negative_step", [](const Tensor&) { return arange(5, -3, -2.5, kFloat64); }},
      {"arange_int_negative_step", [](const Tensor&) { return arange(7, 0, -3); }},
      {"eye_rectangular", [](const Tensor&) { return eye(3, 5, kFloat64); }},
      {"eye_tall", [](const Tensor&) { return eye(4, 2, kFloat64); }},
  };
  return *table;
}

const std::vector<double>* find(const std::string& name) {
  auto it = kFunctionsReference.find(name);
  return it == kFunctionsReference.end() ? nullptr : &it->second;
}

TEST(FunctionsReference, EveryEntryHasAnExpressionAndEveryExpressionAnEntry) {
  std::set<std::string> names;
  for (const auto& [name, values] : kFunctionsReference) names.insert(name.substr(0, name.find('/')));
  EXPECT_GT(names.size(), 50u);
  for (const std::string& n : names) EXPECT_TRUE(expressions().count(n)) << n << ": no expression in this test";
  for (const auto& [n, fn] : expressions()) EXPECT_TRUE(find(n + "/values")) << n << ": no reference entry";
}

TEST(FunctionsReference, ShapesValuesAndGradientsAsPytorch) {
  for (const auto& [name, fn] : expressions()) {
    SCOPED_TRACE(name);
    Tensor x = ref_input(name).detach().set_requires_grad();
    Tensor out;
    try {
      out = fn(x);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    std::vector<double> shape;
    for (int64_t d : out.shape()) shape.push_back(static_cast<double>(d));
    ASSERT_TRUE(find(name + "/shape"));
    EXPECT_EQ(shape, *find(name + "/shape"));
    expect_same(out.to_vector<double>(), *find(name + "/values"), "values");
    const std::vector<double>* want_grad = find(name + "/grad");
    if (!want_grad) {
      EXPECT_FALSE(out.requires_grad());
      continue;
    }
    const Tensor w = reshape(arange(1, out.numel() + 1, 1, kFloat64), out.shape());
    const Tensor g = autograd::grad({sum(out * w)}, {x})[0];
    expect_same(g.to_vector<double>(), *want_grad, "grad");
  }
}

TEST(IndexingErrors, NameTheIndexAndTheShape) {
  const Tensor x = zeros({2, 3});
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_THAT(message([&] { x.index({2}); }), HasSubstr("index: index 2 is out of range for dimension 0 of size 2 (tensor [2,3])"));
  EXPECT_THAT(message([&] { x.index({0, 0, 0}); }), HasSubstr("index: 3 indexed dims for a tensor [2,3]"));
  EXPECT_THAT(message([&] { x.index({"..", 0}); }), HasSubstr("the only string index is \"...\""));
  EXPECT_THAT(message([&] { x.index({"...", "..."}); }), HasSubstr("at most one \"...\""));
  EXPECT_THAT(message([&] { x.index({Slice(None, None, -1)}); }), HasSubstr("slice step must be positive"));
  EXPECT_THAT(message([&] { x.index({Slice(), tensor(std::vector<int64_t>{3}, {1})}); }),
              HasSubstr("index: index 3 is out of range for dimension 1 of size 3"));
  EXPECT_THAT(message([&] { select(x, 1, -4); }), HasSubstr("select: index -4 is out of range for dimension 1 of size 3"));
  EXPECT_THAT(message([&] { split(x, std::vector<int64_t>{1, 1}, 1); }), HasSubstr("split: sizes [1,1] sum to 2, dim 1 of [2,3] has 3"));
  EXPECT_THAT(message([&] { pad(x, {3, 0}, "reflect"); }), HasSubstr("reflect padding 3, 0 must be smaller than dim 1"));
  EXPECT_THAT(message([&] { pad(x, {1}); }), HasSubstr("must be pairs"));
  EXPECT_THAT(message([&] { pad(x, {1, 1}, "wrap"); }), HasSubstr("mode must be"));
  EXPECT_THAT(message([&] { one_hot(tensor(std::vector<int64_t>{4}, {1}), 3); }), HasSubstr("one_hot: index 4 is out of range for 3 classes"));
  EXPECT_THAT(message([&] { masked_fill(x, zeros({3}), 1.0); }), HasSubstr("masked_fill: mask must be bool"));
  EXPECT_THAT(message([&] { masked_fill(arange(3), arange(3) > 0, 0.5); }), HasSubstr("does not fit the int64 tensor"));
}

}  // namespace
}  // namespace tg
