// tapegrad/autograd/functions/embedding.cc: the embedding row (rows of a [V, D] table at integer
// indices) and its adjoint embedding_backward (rows added back, padding positions skipped); each
// is written with the other, so both are twice differentiable. max_norm renormalizes in place.
#include <algorithm>
#include <cmath>
#include <set>

#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "ops/index.h"

namespace tg {

using internal::constant;

namespace {

Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights, int64_t padding_idx);

// Rows of `weight` at `indices`, zero where the index is padding_idx (the adjoint of the backward).
Tensor embedding_rows(const Tensor& weight, const Tensor& indices, int64_t padding_idx);

const OpDef& kEmbedding = define_op({
    .name = "embedding",
    .forward = [](ForwardContext& c) { return ops::embedding(c.in(0), c.in(1)); },
    .backward = [](BackwardContext& c) -> Grads {
      return {embedding_backward(c.grad, c.input(1), c.input_shape(0)[0], c.attrs().i("padding_idx")), Tensor()};
    },
    .save_inputs = {1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"padding_idx", AttrType::kInt}},
    // padding_idx only changes the gradient.
    .onnx = {{.op_type = "Gather", .fixed_ints = {{"axis", 0}}}},
});

const OpDef& kEmbeddingBackward = define_op({
    .name = "embedding_backward",
    .forward = [](ForwardContext& c) {
      return ops::embedding_backward(c.in(1), c.in(0), c.attrs.i("num_weights"), c.attrs.i("padding_idx"));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {Tensor(), embedding_rows(c.grad, c.input(0), c.attrs().i("padding_idx"))};
    },
    .save_inputs = {0},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"num_weights", AttrType::kInt}, {"padding_idx", AttrType::kInt}},
    .not_onnx = "backward-only row (adjoint of embedding)",
});

Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights, int64_t padding_idx) {
  return apply_op(kEmbeddingBackward, {indices, grad}, {{"num_weights", num_weights}, {"padding_idx", padding_idx}});
}

Tensor embedding_rows(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  const Tensor rows = apply_op(kEmbedding, {weight, indices}, {{"padding_idx", int64_t{-1}}});
  if (padding_idx < 0) return rows;
  return rows * constant(ops::compare(ops::CompareOp::kNe, indices.data(), ops::Array::scalar(padding_idx, kInt64))
                             .to(weight.dtype())
                             .unsqueeze(-1));
}

// Note [embedding max_norm]: as torch.embedding_renorm_, every row the batch reads whose p-norm
// exceeds max_norm is scaled in place to max_norm / (norm + 1e-7), before the lookup and outside
// the tape; rows the batch does not read are left alone.
void renormalize_rows(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  TG_CHECK(max_norm > 0, "embedding: max_norm must be positive, got ", max_norm);
  TG_CHECK(norm_type > 0, "embedding: norm_type must be positive, got ", norm_type);
  const std::vector<int64_t> idx = indices.to_vector<int64_t>();
  ops::Array w = weight.data();
  for (int64_t row : std::set<int64_t>(idx.begin(), idx.end())) {
    ops::Array r = w.slice(0, row, row + 1);
    const std::vector<double> v = Tensor(r).to_vector<double>();
    double norm = 0;
    for (double e : v) norm = std::isinf(norm_type) ? std::max(norm, std::abs(e)) : norm + std::pow(std::abs(e), norm_type);
    if (!std::isinf(norm_type)) norm = std::pow(norm, 1.0 / norm_type);
    if (norm > max_norm) ops::overwrite(r, ops::scale(r, max_norm / (norm + 1e-7)), "embedding (max_norm)");
  }
}

}  // namespace

Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx,
                 std::optional<double> max_norm, double norm_type) {
  TG_CHECK(weight.dim() == 2, "embedding: weight must be [num_embeddings, embedding_dim], got ",
           shape_str(weight.shape()));
  TG_CHECK(input.dtype() == kInt64, "embedding: indices must be int64, got ", dtype_name(input.dtype()));
  const int64_t num = weight.size(0);
  int64_t pad = -1;
  if (padding_idx) {
    TG_CHECK(*padding_idx >= -num && *padding_idx < num, "embedding: padding_idx ", *padding_idx,
             " is out of range for ", num, " embeddings");
    pad = *padding_idx < 0 ? *padding_idx + num : *padding_idx;
  }
  if (max_norm) {
    // Range-check before writing: the kernel's own check comes after the renormalization.
    for (int64_t i : input.to_vector<int64_t>()) {
      TG_CHECK(i >= 0 && i < num, "embedding: index ", i, " is out of range for ", num, " embeddings");
    }
    NoGradGuard no_grad;
    renormalize_rows(weight, input, *max_norm, norm_type);
  }
  return apply_op(kEmbedding, {weight, input}, {{"padding_idx", pad}});
}

}  // namespace tg
