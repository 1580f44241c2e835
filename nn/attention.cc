// tapegrad/nn/attention.cc: MultiheadAttention: project, split heads, attend, merge, project.
#include "nn/attention.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/indexing.h"
#include "nn/init.h"

namespace tg::nn {

namespace {

// A mask as an additive float mask of dtype (bool: true -> -inf).
Tensor additive(const Tensor& mask, DType dtype) {
  if (mask.dtype() != kBool) return mask.dtype() == dtype ? mask : to_dtype(mask, dtype);
  return additive_mask(mask, dtype);
}

}  // namespace

MultiheadAttention::MultiheadAttention(MultiheadAttentionOptions o) : Module("MultiheadAttention"), options(o) {
  TG_CHECK(o.embed_dim > 0 && o.num_heads > 0 && o.embed_dim % o.num_heads == 0, "MultiheadAttention: embed_dim ",
           o.embed_dim, " must be a positive multiple of num_heads ", o.num_heads);
  TG_CHECK(o.dropout >= 0 && o.dropout < 1, "MultiheadAttention: dropout must be in [0, 1), got ", o.dropout);
  in_proj_weight = register_parameter("in_proj_weight", zeros({3 * o.embed_dim, o.embed_dim}, o.dtype));
  if (o.bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * o.embed_dim}, o.dtype));
  out_proj = register_module("out_proj", std::make_shared<Linear>(LinearOptions{o.embed_dim, o.embed_dim, o.bias, o.dtype}));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  out_proj->reset_parameters();
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias), init::zeros_(out_proj->bias);
}

std::tuple<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                       const Tensor& key_padding_mask, bool need_weights,
                                                       const Tensor& attn_mask, bool average_attn_weights) {
  const int64_t e = options.embed_dim, h = options.num_heads, dh = e / h;
  TG_CHECK(query.dim() == 2 || query.dim() == 3, "MultiheadAttention: query must be [L, E] or [L, N, E], got ",
           shape_str(query.shape()));
  TG_CHECK(key.dim() == query.dim() && value.dim() == query.dim(), "MultiheadAttention: query ",
           shape_str(query.shape()), ", key ", shape_str(key.shape()), " and value ", shape_str(value.shape()),
           " must have one rank");
  const bool unbatched = query.dim() == 2;
  // To [N, L, E].
  auto batch_major = [&](const Tensor& t) {
    if (unbatched) return unsqueeze(t, 0);
    return options.batch_first ? t : transpose(t, 0, 1);
  };
  const Tensor q_in = batch_major(query), k_in = batch_major(key), v_in = batch_major(value);
  const int64_t n = q_in.size(0), l = q_in.size(1), s = k_in.size(1);
  TG_CHECK(q_in.size(2) == e && k_in.size(2) == e && v_in.size(2) == e, "MultiheadAttention: query ",
           shape_str(query.shape()), ", key ", shape_str(key.shape()), " and value ", shape_str(value.shape()),
           " must have embed_dim ", e, " features");
  TG_CHECK(k_in.size(0) == n && v_in.size(0) == n && v_in.size(1) == s, "MultiheadAttention: key ",
           shape_str(key.shape()), " and value ", shape_str(value.shape()), " do not match query ",
           shape_str(query.shape()), " in batch or length");
  // Project and split heads: [N, T, E] -> [N, H, T, dh].
  auto project = [&](const Tensor& x, int64_t which) {
    const Tensor w = narrow(in_proj_weight, 0, which * e, e);
    const Tensor b = in_proj_bias.defined() ? narrow(in_proj_bias, 0, which * e, e) : Tensor();
    // unflatten and flatten, not reshape: a traced graph keeps the batch and the lengths symbolic.
    return permute(unflatten(linear(x, w, b), -1, {h, dh}), {0, 2, 1, 3});
  };
  const Tensor q = project(q_in, 0), k = project(k_in, 1), v = project(v_in, 2);
  // One additive mask broadcasting to [N, H, L, S].
  Tensor mask;
  if (attn_mask.defined()) {
    const bool shared = attn_mask.dim() == 2 && attn_mask.size(0) == l && attn_mask.size(1) == s;
    const bool per_head = attn_mask.dim() == 3 && attn_mask.size(0) == n * h && attn_mask.size(1) == l && attn_mask.size(2) == s;
    TG_CHECK(shared || per_head, "MultiheadAttention: attn_mask ", shape_str(attn_mask.shape()), " should be [", l, ", ",
             s, "] or [", n * h, ", ", l, ", ", s, "]");
    mask = additive(shared ? attn_mask : reshape(attn_mask, {n, h, l, s}), q.dtype());
  }
  if (key_padding_mask.defined()) {
    const Shape want = unbatched ? Shape{s} : Shape{n, s};
    TG_CHECK(key_padding_mask.shape() == want, "MultiheadAttention: key_padding_mask ",
             shape_str(key_padding_mask.shape()), " should be ", shape_str(want));
    const Tensor padding = unsqueeze(unsqueeze(additive(key_padding_mask, q.dtype()), -2), -3);  // [N, 1, 1, S]
    mask = mask.defined() ? mask + padding : padding;
  }
  const double p = is_training() ? options.dropout : 0.0;
  Tensor out, weights;
  if (need_weights) {
    Tensor scores = matmul(q, transpose(k, -2, -1)) * (1.0 / std::sqrt(static_cast<double>(dh)));
    if (mask.defined()) scores = scores + mask;
    weights = dropout(softmax(scores, -1), p, p > 0);
    out = matmul(weights, v);
    if (average_attn_weights) weights = mean(weights, 1);
    if (unbatched) weights = squeeze(weights, 0);
  } else {
    out = scaled_dot_product_attention(q, k, v, mask, p);  // the mask broadcasts to [N, H, L, S]
  }
  // Merge heads: [N, H, L, dh] -> [N, L, E], project, back to the input's layout.
  out = out_proj->forward(flatten(permute(out, {0, 2, 1, 3}), 2));
  if (unbatched) return {squeeze(out, 0), weights};
  return {options.batch_first ? out : transpose(out, 0, 1), weights};
}

Tensor MultiheadAttention::forward(const Tensor& x) { return std::get<0>(forward(x, x, x, {}, false)); }

std::string MultiheadAttention::extra_repr() const {
  return absl::StrCat("embed_dim=", options.embed_dim, ", num_heads=", options.num_heads, ", dropout=", options.dropout,
                      ", batch_first=", options.batch_first ? "true" : "false");
}

}  // namespace tg::nn
