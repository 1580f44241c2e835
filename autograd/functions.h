// tapegrad/autograd/functions.h: every differentiable op as a free function on tg::Tensor, plus
// the operators. Each is one row of the op table (see op_table.h) or a composition of rows.
//   auto y = tg::relu(tg::conv2d(x, w, b, /*stride=*/1, /*padding=*/2));
//   auto loss = tg::cross_entropy(logits, labels);
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/tensor.h"
#include "ops/scalar.h"

namespace tg {

// A pair of spatial sizes that reads as one number when both are equal: 2 or {2, 3}.
struct Size2 {
  int64_t h, w;
  Size2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit on purpose
  Size2(int64_t h, int64_t w) : h(h), w(w) {}
};

// kBatchMean: the sum divided by the size of dim 0 (kl_div's mathematically correct mean).
enum class Reduction { kNone, kMean, kSum, kBatchMean };

// ---- elementwise ----
// Binary ops broadcast like NumPy and compute in the promoted dtype of their operands, as
// PyTorch (Note [Type promotion] in ops/scalar.h): int64 * 2.5 is float32, float32 + float64 is
// float64, int64 / int64 is true division in float32. A Scalar is a C++ number (2 and 2.5 differ).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, Scalar exponent);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
// Floating functions (an integer input computes in float32).
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor erfinv(const Tensor& x);
Tensor expm1(const Tensor& x);  // exp(x) - 1, accurate near 0
Tensor log1p(const Tensor& x);  // log(1 + x), accurate near 0
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor frac(const Tensor& x);  // x - trunc(x)
// Rounding (zero gradient; identity on integers). round: halves to even.
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);
Tensor trunc(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor atan2(const Tensor& y, const Tensor& x);
Tensor fmod(const Tensor& a, const Tensor& b);       // remainder of truncated division (sign of a)
Tensor fmod(const Tensor& a, Scalar b);
Tensor remainder(const Tensor& a, const Tensor& b);  // Python's %: floored division (sign of b)
Tensor remainder(const Tensor& a, Scalar b);
Tensor floor_divide(const Tensor& a, const Tensor& b);  // floor(a / b); not differentiable
Tensor floor_divide(const Tensor& a, Scalar b);
// Elementwise max/min (NaN propagates; ties split the gradient).
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
// Comparisons (not differentiable): bool tensors, computed in the promoted dtype.
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, Scalar b);
Tensor lt(const Tensor& a, Scalar b);
Tensor ge(const Tensor& a, Scalar b);
Tensor le(const Tensor& a, Scalar b);
Tensor eq(const Tensor& a, Scalar b);
Tensor ne(const Tensor& a, Scalar b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, Scalar b);
Tensor where(const Tensor& condition, Scalar a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator%(const Tensor& a, const Tensor& b);  // remainder
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator%(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);
// Comparison operators give bool tensors, as in LibTorch (not a bool: compare with equal()).
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, Scalar b);
Tensor operator<(const Tensor& a, Scalar b);
Tensor operator>=(const Tensor& a, Scalar b);
Tensor operator<=(const Tensor& a, Scalar b);
Tensor operator==(const Tensor& a, Scalar b);
Tensor operator!=(const Tensor& a, Scalar b);
// Truth of each element (non-zero), combined: bool tensors, as torch.logical_*.
Tensor logical_not(const Tensor& x);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
// True when both have the same shape, dtype and values.
bool equal(const Tensor& a, const Tensor& b);

// ---- activations ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// approximate: "none" (the erf form) or "tanh".
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
Tensor celu(const Tensor& x, double alpha = 1.0);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor silu(const Tensor& x);
Tensor mish(const Tensor& x);
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
Tensor hardsigmoid(const Tensor& x);
Tensor hardswish(const Tensor& x);
Tensor log_sigmoid(const Tensor& x);
// weight: one slope, or one per channel (dim 1 of x).
Tensor prelu(const Tensor& x, const Tensor& weight);
// The first half of dim times the sigmoid of the second half.
Tensor glu(const Tensor& x, int64_t dim = -1);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Zeroes elements with probability p and scales the rest by 1/(1-p) when training.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, ops::Generator* gen = nullptr);

// ---- reductions (empty dims = all dims; sum(x, 1) is dim 1) ----
// sum of bool or int64 is int64; mean needs a floating tensor (as PyTorch).
Tensor sum(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
Tensor min(const Tensor& x);
// (values, int64 indices) along dim.
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);  // index into the flattened tensor
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// Variance and standard deviation (unbiased: divide by n - 1).
Tensor var(const Tensor& x, IntArrayRef dims = {}, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, IntArrayRef dims = {}, bool unbiased = true, bool keepdim = false);
// The p-norm over dims (2: gradient 0 at the origin; 1; inf = max |x|).
Tensor norm(const Tensor& x, double p = 2, IntArrayRef dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);
Tensor cumprod(const Tensor& x, int64_t dim);
// (values, int64 indices); stable, NaN above every number.
std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along dim, sorted: (values, int64 indices).
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);
// bool results (not differentiable).
Tensor any(const Tensor& x);
Tensor any(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor all(const Tensor& x);
Tensor all(const Tensor& x, int64_t dim, bool keepdim = false);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);
// x @ weight^T + bias, weight [out, in]; bias optional.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- shape and indexing (views share storage with their input) ----
Tensor reshape(const Tensor& x, IntArrayRef shape);  // one size may be -1
Tensor view(const Tensor& x, IntArrayRef shape);  // throws if the strides cannot express it
Tensor permute(const Tensor& x, const Shape& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor expand(const Tensor& x, const Shape& shape);
// Splits dim into sizes (one may be -1): unflatten(x [N, T, 64], -1, {4, 16}) is [N, T, 4, 16].
Tensor unflatten(const Tensor& x, int64_t dim, IntArrayRef sizes);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor contiguous(const Tensor& x, MemoryFormat format = MemoryFormat::Contiguous);
Tensor clone(const Tensor& x);
Tensor to_dtype(const Tensor& x, DType dtype);
// Sums a broadcast gradient back to `shape` (the adjoint of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// The pointwise part of an LSTM step in one row (ops/lstm_cell.h): gate pre-activations
// [..., 4H] (input, forget, cell, output: PyTorch's order) and the cell state [..., H] ->
// (h', c'), each [..., H]; an undefined c_prev is the zero state. nn::LSTM and nn::LSTMCell run
// it once per step.
std::pair<Tensor, Tensor> fused_lstm_cell(const Tensor& gates, const Tensor& c_prev);
// One LSTM layer direction over a whole sequence, for inference (ops/lstm_layer.h): x [T, B, F]
// (any strides), w [4H, F] and r [4H, H] the input and recurrent weights (gate order as above),
// bias [4H] both biases summed (or undefined), h0 and c0 [B, H] -> y [T, B, H] (time order, also
// when reverse), the last h and c. Per step one GEMM and one fused pass, no autograd nodes:
// refused while gradients would be recorded or a tracer observes (fused_lstm_cell per step is the
// differentiable form).
struct LstmLayerOutput {
  Tensor y, h, c;
};
// onnx_gate_order: the weights' and bias's gate blocks in ONNX's order (i, o, f, c).
LstmLayerOutput lstm_layer_inference(const Tensor& x, const Tensor& w, const Tensor& r, const Tensor& bias,
                                     const Tensor& h0, const Tensor& c0, bool reverse = false,
                                     bool onnx_gate_order = false);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& source);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& source);

// ---- convolution and pooling (NCHW) ----
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);
// relu(conv2d(x, weight, bias) + residual) as one kernel (Note [Fused convolution] in ops/conv.h:
// the sum and the ReLU in the convolution's epilogue, two passes over the output saved): residual
// undefined for none (else of the output's shape), relu false for none. Values and gradients are
// those of the separate ops to float rounding; exports to ONNX as Conv, Add, Relu.
Tensor fused_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& residual, bool relu,
                    Size2 stride = 1, Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);
// The two adjoints of conv2d, themselves differentiable (they give conv2d its double backward).
Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             Size2 stride, Size2 padding, Size2 dilation, int64_t groups);
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& grad_out, const Shape& weight_shape,
                              Size2 stride, Size2 padding, Size2 dilation, int64_t groups);
// Transposed convolution (LibTorch's argument order): x [N, C_in, H, W], weight
// [C_in, C_out / groups, KH, KW]; output_padding (smaller than stride) adds rows at the end.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
                        Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1, Size2 dilation = 1);
// stride defaults to the kernel size; arguments in LibTorch's order. ceil_mode: the output size
// rounds up (a last window must start inside the input or its left padding).
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0, Size2 dilation = 1, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);
// 1-D forms over [N, C, L] (or unbatched [C, L]).
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
                        int64_t padding = 0, int64_t output_padding = 0, int64_t groups = 1, int64_t dilation = 1);
Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                  int64_t dilation = 1, bool ceil_mode = false);
Tensor avg_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
// Pooling to a fixed output size, windows as PyTorch's ([floor(i H / h), ceil((i + 1) H / h))).
Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size);
// Resizes [N, C, L] or [N, C, H, W] to `size` or by `scale_factor` (one value, or one per
// spatial dim): mode "nearest", "linear" (3-d) or "bilinear" (4-d) with align_corners, as
// torch.nn.functional.interpolate.
Tensor interpolate(const Tensor& x, std::optional<std::vector<int64_t>> size,
                   std::optional<std::vector<double>> scale_factor = std::nullopt, const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt);
// [*, C r^2, H, W] <-> [*, C, H r, W r].
Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);

// ---- normalization ----
// x: [N, C] or [N, C, *]. Training normalizes with batch statistics and updates running_mean /
// running_var in place (momentum, unbiased variance); eval uses the running statistics.
// weight/bias (per channel) may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

// Normalizes over the trailing dims normalized_shape (zero mean, unit biased variance), then
// scales by weight and shifts by bias (both of normalized_shape, either may be undefined).
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// Normalizes each of num_groups channel groups of [N, C, *] over its channels and positions, then
// scales and shifts per channel (weight/bias [C], optional).
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);
// Each channel of each sample normalized over its positions (batch statistics only).
Tensor instance_norm(const Tensor& input, const Tensor& weight = {}, const Tensor& bias = {}, double eps = 1e-5);
// x / sqrt(mean(x^2) over normalized_shape + eps) * weight; eps defaults to the dtype's epsilon.
Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                std::optional<double> eps = std::nullopt);

// ---- attention ----
// softmax(query key^T * scale + mask) value over q [..., L, E], k [..., S, E], v [..., S, Ev]
// (equal leading dims) -> [..., L, Ev], as torch.nn.functional.scaled_dot_product_attention.
// attn_mask broadcasts to [..., L, S]: bool (true = attend) or additive of query's dtype.
// is_causal lets row i attend to columns j <= i (without building a mask). scale defaults to
// 1/sqrt(E). One fused row with its own backward, except with dropout_p > 0 (then composed, with
// dropout drawn from gen or the default generator).
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0, bool is_causal = false,
                                    std::optional<double> scale = std::nullopt, ops::Generator* gen = nullptr);
// The additive attention mask of a bool mask of blocked positions: -inf where blocked, 0 elsewhere.
Tensor additive_mask(const Tensor& blocked, DType dtype);

// ---- einsum ----
// Einstein summation as torch.einsum: "bij,bjk->bik", implicit outputs ("ij,jk"), "..." for
// broadcast dims; composed of sum, permute, flatten and matmul rows (no diagonals "ii").
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

// ---- embedding ----
// Rows of weight [num_embeddings, embedding_dim] at the int64 indices `input` (any shape):
// [*input.shape, embedding_dim], as torch::nn::functional::embedding. Positions whose index is
// padding_idx (negative counts from the end) pass no gradient to that row. With max_norm, rows
// the input reads whose norm_type-norm exceeds max_norm are first rescaled in place to max_norm.
Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt,
                 std::optional<double> max_norm = std::nullopt, double norm_type = 2.0);

// ---- losses ----
// Classification: input [N, C], [N, C, d1, ...] (or [C]) of logits (log-probabilities for
// nll_loss); target int64 class indices [N, d1, ...] (entries equal to ignore_index skipped), or
// for cross_entropy class probabilities of the input's shape. weight: one per class (the mean is
// then divided by the targets' weights). label_smoothing mixes in the uniform distribution.
Tensor cross_entropy(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean,
                     double label_smoothing = 0.0, int64_t ignore_index = -100);
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     Reduction reduction = Reduction::kMean, double label_smoothing = 0.0, int64_t ignore_index = -100);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::kMean,
                int64_t ignore_index = -100);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                Reduction reduction = Reduction::kMean, int64_t ignore_index = -100);
// Connectionist temporal classification, as torch::ctc_loss: log_probs [T, N, C] (log_softmax
// over C) or unbatched [T, C]; targets [N, S] padded or the concatenation of every sample's
// labels; input_lengths, target_lengths [N] int64. kMean divides each loss by its target length,
// then averages; zero_infinity zeroes the losses (and gradients) of impossible alignments.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank = 0, Reduction reduction = Reduction::kMean,
                bool zero_infinity = false);
// Binary: input probabilities in [0, 1] (or logits for _with_logits), target of the same shape;
// weight broadcasts to the input, pos_weight (per class, last dim) weighs the positive terms.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::kMean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::kMean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight = {}, Reduction reduction = Reduction::kMean);
// Regression, input and target of one shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean);
// 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta = 0: l1).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean,
                      double beta = 1.0);
// 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean,
                  double delta = 1.0);
// input log-probabilities; target probabilities (log-probabilities with log_target). Pointwise
// target (log target - input), 0 where target is 0; kBatchMean divides the sum by the batch.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean,
              bool log_target = false);
// Ranking and embeddings: y is +1 or -1 per sample.
Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin = 0.0,
                           Reduction reduction = Reduction::kMean);
Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative,
                           double margin = 1.0, double p = 2.0, double eps = 1e-6, bool swap = false,
                           Reduction reduction = Reduction::kMean);
Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin = 0.0,
                             Reduction reduction = Reduction::kMean);

// ---- distances ----
// sum(x1 x2) / sqrt(max(sum(x1^2) sum(x2^2), eps^2)) over dim (PyTorch 1.13's form).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);
// The p-norm of x1 - x2 + eps over the last dim.
Tensor pairwise_distance(const Tensor& x1, const Tensor& x2, double p = 2.0, double eps = 1e-6, bool keepdim = false);

}  // namespace tg
