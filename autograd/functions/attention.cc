// tapegrad/autograd/functions/attention.cc: scaled_dot_product_attention, one row with a fused
// kernel (ops/attention.h) for q [..., L, E], k [..., S, E], v [..., S, Ev] and an optional
// additive mask broadcastable to [..., L, S]; causal masking is computed, never stored. With
// dropout the same function is composed from matmul, softmax and dropout rows.
#include <cmath>
#include <limits>

#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "ops/attention.h"

namespace tg {

using internal::constant;

namespace {

// [..., a, b] -> [prod(...), a, b] (a view when it can be).
ops::Array flat3(const ops::Array& x) { return x.reshape({-1, x.size(-2), x.size(-1)}); }

// The scores' shape [..., L, S] of a query and key.
Shape scores_shape(const Shape& q, const Shape& k) {
  Shape s(q.begin(), q.end() - 1);
  s.push_back(k[k.size() - 2]);
  return s;
}

// Under create_graph the backward is written with differentiable rows (Note [layer_norm backward]
// in norm.cc does the same): the probabilities are recomputed from q and k, then
//   dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q.
Tensor probabilities(const Tensor& q, const Tensor& k, const Tensor& mask, bool causal, double scale) {
  Tensor scores = matmul(q, transpose(k, -2, -1)) * scale;
  if (mask.defined()) scores = scores + mask;
  if (causal) {
    const int64_t l = q.size(-2), s = k.size(-2);
    scores = masked_fill(scores, logical_not(tril(ones({l, s}, kBool))), -std::numeric_limits<double>::infinity());
  }
  return softmax(scores, -1);
}

std::string attention_refuses_onnx(const Attrs& a, const std::vector<bool>& present, bool with_mask) {
  if (a.b("is_causal")) return "is_causal needs Trilu (opset 14); export with attn_mask = a lower-triangular mask";
  const bool has_mask = present.size() > 3 && present[3];
  return has_mask == with_mask ? "" : "another mapping";
}

// opset 13: Einsum (q k^T), Mul(scale), Add(mask), Softmax(-1), Einsum (P v).
std::vector<OnnxMapping> attention_steps(bool with_mask) {
  std::vector<OnnxMapping> steps = {
      {.op_type = "Einsum", .inputs = {onnx_in(0), onnx_in(1)}, .fixed_strings = {{"equation", "...ld,...sd->...ls"}}},
      {.op_type = "Mul", .inputs = {onnx_step(0), onnx_attr_in(OnnxInputForm::kScalar, "scale")}},
  };
  if (with_mask) steps.push_back({.op_type = "Add", .inputs = {onnx_step(1), onnx_in(3)}});
  const int last = static_cast<int>(steps.size()) - 1;
  steps.push_back({.op_type = "Softmax", .inputs = {onnx_step(last)}, .fixed_ints = {{"axis", -1}}});
  steps.push_back({.op_type = "Einsum", .inputs = {onnx_step(last + 1), onnx_in(2)},
                   .fixed_strings = {{"equation", "...ls,...sd->...ld"}}});
  return steps;
}

const OpDef& kAttention = define_op({
    .name = "scaled_dot_product_attention",
    .forward = [](ForwardContext& c) {
      const ops::Array &q = c.in(0), &k = c.in(1), &v = c.in(2);
      TG_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(),
               "scaled_dot_product_attention: query ", shape_str(q.shape()), ", key ", shape_str(k.shape()),
               " and value ", shape_str(v.shape()), " must have one rank of at least 2");
      TG_CHECK(Shape(k.shape().begin(), k.shape().end() - 2) == Shape(q.shape().begin(), q.shape().end() - 2) &&
                   Shape(v.shape().begin(), v.shape().end() - 2) == Shape(q.shape().begin(), q.shape().end() - 2) &&
                   k.size(-1) == q.size(-1) && v.size(-2) == k.size(-2),
               "scaled_dot_product_attention: query ", shape_str(q.shape()), ", key ", shape_str(k.shape()),
               " and value ", shape_str(v.shape()), " do not fit ([..., L, E], [..., S, E], [..., S, Ev])");
      const Shape scores = scores_shape(q.shape(), k.shape());
      ops::Array mask;
      if (c.has(3)) {
        TG_CHECK(c.in(3).dtype() == q.dtype(), "scaled_dot_product_attention: an additive mask must be ",
                 dtype_name(q.dtype()), " like the query, got ", dtype_name(c.in(3).dtype()));
        TG_CHECK(ops::broadcast_shapes(c.in(3).shape(), scores, "scaled_dot_product_attention") == scores,
                 "scaled_dot_product_attention: mask ", shape_str(c.in(3).shape()), " does not broadcast to ",
                 shape_str(scores));
        mask = flat3(c.in(3).expand(scores).contiguous());
      }
      ops::AttentionForward r =
          ops::attention_forward(flat3(q), flat3(k), flat3(v), mask, c.attrs.b("is_causal"), c.attrs.f("scale"));
      c.extras.push_back(r.probs);
      Shape out = scores;
      out.back() = v.size(-1);
      return r.out.reshape(out);
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Tensor q = c.input(0), k = c.input(1), v = c.input(2);
      const Tensor mask = c.has_input(3) ? c.input(3) : Tensor();
      const double scale = c.attrs().f("scale");
      const bool causal = c.attrs().b("is_causal");
      Tensor dq, dk, dv, dscores;
      if (GradMode::is_enabled()) {
        const Tensor p = probabilities(q, k, mask, causal, scale);
        dv = matmul(transpose(p, -2, -1), c.grad);
        const Tensor dp = matmul(c.grad, transpose(v, -2, -1));
        dscores = p * (dp - sum(dp * p, -1, true));
        dq = matmul(dscores, k) * scale;
        dk = matmul(transpose(dscores, -2, -1), q) * scale;
      } else {
        ops::AttentionGrads g = ops::attention_backward(flat3(c.grad.data()), flat3(q.data()), flat3(k.data()),
                                                        flat3(v.data()), c.extra(0).data(), scale, c.needs_grad(3));
        dq = constant(g.dq.reshape(q.shape()));
        dk = constant(g.dk.reshape(k.shape()));
        dv = constant(g.dv.reshape(v.shape()));
        if (c.needs_grad(3)) dscores = constant(g.dscores.reshape(scores_shape(q.shape(), k.shape())));
      }
      return {dq, dk, dv, c.needs_grad(3) ? sum_to(dscores, c.input_shape(3)) : Tensor()};
    },
    .save_inputs = {0, 1, 2, 3},
    .min_inputs = 3,
    .max_inputs = 4,
    .attr_schema = {{"scale", AttrType::kFloat}, {"is_causal", AttrType::kBool}},
    .onnx = {{.op_type = "Attention(q, k, v, mask)",
              .refuse = [](const Attrs& a, const std::vector<bool>& p) { return attention_refuses_onnx(a, p, true); },
              .steps = attention_steps(true)},
             {.op_type = "Attention(q, k, v)",
              .refuse = [](const Attrs& a, const std::vector<bool>& p) { return attention_refuses_onnx(a, p, false); },
              .steps = attention_steps(false)}},
});

}  // namespace

Tensor additive_mask(const Tensor& blocked, DType dtype) {
  TG_CHECK(blocked.dtype() == kBool, "additive_mask: expected a bool mask, got ", dtype_name(blocked.dtype()));
  return masked_fill(zeros(blocked.shape(), dtype), blocked, -std::numeric_limits<double>::infinity());
}

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, ops::Generator* gen) {
  TG_CHECK(query.defined() && key.defined() && value.defined(), "scaled_dot_product_attention: undefined input");
  TG_CHECK(query.dim() >= 2, "scaled_dot_product_attention: query must be [..., L, E], got ", shape_str(query.shape()));
  TG_CHECK(is_floating(query.dtype()), "scaled_dot_product_attention: query must be floating, got ",
           dtype_name(query.dtype()));
  TG_CHECK(!(attn_mask.defined() && is_causal), "scaled_dot_product_attention: give attn_mask or is_causal, not both");
  TG_CHECK(dropout_p >= 0 && dropout_p < 1, "scaled_dot_product_attention: dropout_p must be in [0, 1), got ", dropout_p);
  const double s = scale.value_or(1.0 / std::sqrt(static_cast<double>(query.size(-1))));
  // A boolean mask says which positions take part (true); as an additive mask: 0 or -inf.
  Tensor mask = attn_mask;
  if (mask.defined() && mask.dtype() == kBool) {
    mask = additive_mask(logical_not(mask), query.dtype());
  }
  if (dropout_p > 0) {
    return matmul(dropout(probabilities(query, key, mask, is_causal, s), dropout_p, true, gen), value);
  }
  return apply_op(kAttention, {query, key, value, mask}, {{"scale", s}, {"is_causal", is_causal}});
}

}  // namespace tg
