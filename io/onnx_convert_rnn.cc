// tapegrad/io/onnx_convert_rnn.cc: ONNX RNN, GRU and LSTM (every direction, layout 0 and 1,
// initial states, per-batch sequence_lens, LSTM peepholes, clip, the activation list), unrolled
// over time with tapegrad's differentiable ops, so imported recurrent models train.
// Gate orders are ONNX's: LSTM i, o, f, c; GRU z, r, h. The common LSTM runs fused_lstm_cell.
#include <cmath>
#include <tuple>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "autograd/indexing.h"
#include "io/onnx_converters.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

enum class Cell { kRnn, kGru, kLstm };

// One of ONNX's recurrent activation functions, with its alpha/beta where it takes them.
struct Activation {
  std::string name;
  double alpha = 0, beta = 0;
  Tensor operator()(const Tensor& x) const {
    if (name == "Sigmoid") return sigmoid(x);
    if (name == "Tanh") return tanh(x);
    if (name == "Relu") return relu(x);
    if (name == "LeakyRelu") return leaky_relu(x, alpha);
    if (name == "HardSigmoid") return clamp(x * alpha + beta, 0.0, 1.0);
    if (name == "Softsign") return div(x, abs(x) + 1);
    if (name == "Softplus") return softplus(x);
    if (name == "Elu") return elu(x, alpha);
    if (name == "Affine") return x * alpha + beta;
    if (name == "ScaledTanh") return tanh(x * beta) * alpha;
    if (name == "ThresholdedRelu") return where(gt(x, alpha), x, zeros_like(x));
    TG_CHECK(false, "activation '", name, "' is not supported");
    return x;
  }
};

// ONNX's defaults for the alpha/beta of activations that take them.
Activation make_activation(const std::string& name, const std::vector<double>& alphas,
                           const std::vector<double>& betas, size_t& next_alpha, size_t& next_beta) {
  Activation a{name};
  auto take = [](const std::vector<double>& v, size_t& i, double fallback) { return i < v.size() ? v[i++] : fallback; };
  if (name == "LeakyRelu") a.alpha = take(alphas, next_alpha, 0.01);
  if (name == "HardSigmoid") {
    a.alpha = take(alphas, next_alpha, 0.2);
    a.beta = take(betas, next_beta, 0.5);
  }
  if (name == "Elu") a.alpha = take(alphas, next_alpha, 1.0);
  if (name == "ThresholdedRelu") a.alpha = take(alphas, next_alpha, 1.0);
  if (name == "Affine" || name == "ScaledTanh") {
    a.alpha = take(alphas, next_alpha, 1.0);
    a.beta = take(betas, next_beta, 0.0);
  }
  return a;
}

// The directions' results along a new dim `dim`: one direction is a view of its result (a
// batch-64 LSTM's output is 4 MB a layer).
Tensor stack_directions(const std::vector<Tensor>& results, int64_t dim) {
  return results.size() == 1 ? unsqueeze(results[0], dim) : stack(results, dim);
}

template <Cell kCell>
Tensors recurrent(C& c) {
  constexpr int gates = kCell == Cell::kLstm ? 4 : kCell == Cell::kGru ? 3 : 1;
  constexpr int per_direction = kCell == Cell::kLstm ? 3 : kCell == Cell::kGru ? 2 : 1;
  const bool batch_first = c.i("layout", 0) != 0;
  Tensor x = c.in(0);
  TG_CHECK(x.dim() == 3, "X must be 3-d, is ", shape_str(x.shape()));
  if (batch_first) x = transpose(x, 0, 1);  // [seq, batch, input]
  const int64_t seq = x.size(0), batch = x.size(1);
  const int64_t hidden = c.i("hidden_size");
  const std::string direction = c.s("direction", "forward");
  TG_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional", "direction '", direction,
           "' is not forward, reverse or bidirectional");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  const Tensor& w = c.in(1);
  const Tensor& r = c.in(2);
  TG_CHECK(w.dim() == 3 && w.size(0) == dirs && w.size(1) == gates * hidden && w.size(2) == x.size(2), "W ",
           shape_str(w.shape()), " does not fit ", dirs, " direction(s), hidden_size ", hidden, " and input ",
           shape_str(x.shape()));
  TG_CHECK(r.dim() == 3 && r.size(0) == dirs && r.size(1) == gates * hidden && r.size(2) == hidden, "R ",
           shape_str(r.shape()), " does not fit hidden_size ", hidden);
  const double clip = c.f("clip", 0.0);
  TG_CHECK(kCell != Cell::kLstm || c.i("input_forget", 0) == 0, "input_forget=1 is not supported");
  const bool linear_before_reset = kCell == Cell::kGru && c.i("linear_before_reset", 0) != 0;

  std::vector<Activation> acts;  // per direction: f, g[, h]
  {
    std::vector<std::string> given;
    if (c.has("activations")) {
      given = c.strings("activations");
    }
    std::vector<double> alphas = c.has("activation_alpha") ? c.floats("activation_alpha") : std::vector<double>{};
    std::vector<double> betas = c.has("activation_beta") ? c.floats("activation_beta") : std::vector<double>{};
    const std::vector<std::string> defaults = kCell == Cell::kRnn ? std::vector<std::string>{"Tanh"}
                                              : kCell == Cell::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                    : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    size_t ia = 0, ib = 0;
    for (int64_t d = 0; d < dirs; ++d) {
      for (size_t k = 0; k < defaults.size(); ++k) {
        const size_t at = d * defaults.size() + k;
        const std::string name = at < given.size() ? given[at] : defaults[k];
        acts.push_back(make_activation(name, alphas, betas, ia, ib));
      }
    }
    TG_CHECK(given.empty() || given.size() == defaults.size() * dirs, "activations lists ", given.size(),
             " functions, ", defaults.size() * dirs, " expected");
  }
  // Per-batch lengths: steps at or past a sequence's length keep its state and output zeros.
  std::vector<int64_t> lengths(batch, seq);
  bool ragged = false;
  if (c.has_in(4)) {
    lengths = c.int_values(4);
    TG_CHECK(static_cast<int64_t>(lengths.size()) == batch, "sequence_lens has ", lengths.size(), " entries for batch ",
             batch);
    for (int64_t l : lengths) {
      TG_CHECK(l >= 0 && l <= seq, "sequence length ", l, " is outside [0, ", seq, "]");
      ragged = ragged || l != seq;
    }
  }
  auto initial = [&](int i) -> Tensor {
    if (!c.has_in(i)) return zeros({dirs, batch, hidden}, x.dtype());
    Tensor s = c.in(i);
    if (batch_first) s = transpose(s, 0, 1);
    TG_CHECK(s.shape() == Shape({dirs, batch, hidden}), "initial state ", shape_str(s.shape()), " is not ",
             shape_str({dirs, batch, hidden}));
    return s;
  };
  const Tensor h0 = initial(5);
  const Tensor c0 = kCell == Cell::kLstm ? initial(6) : Tensor();

  std::vector<Tensor> y_dirs, h_last, c_last;
  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const Tensor wd = select(w, 0, d), rd = select(r, 0, d);
    Tensor wb, rb;
    if (c.has_in(3)) {
      const Tensor b = select(c.in(3), 0, d);
      TG_CHECK(b.dim() == 1 && b.size(0) == 2 * gates * hidden, "B ", shape_str(c.in(3).shape()), " does not fit");
      wb = narrow(b, 0, 0, gates * hidden);
      rb = narrow(b, 0, gates * hidden, gates * hidden);
    }
    std::vector<Tensor> peep;
    if (kCell == Cell::kLstm && c.has_in(7)) peep = chunk(select(c.in(7), 0, d), 3, 0);  // i, o, f
    const Activation &f = acts[d * per_direction], &g = acts[d * per_direction + (per_direction > 1 ? 1 : 0)];
    const Activation& h_act = acts[d * per_direction + (per_direction > 2 ? 2 : 0)];
    auto clipped = [&](const Tensor& t) { return clip > 0 ? clamp(t, -clip, clip) : t; };
    // The common LSTM (default activations, no clip, no peepholes) runs the fused_lstm_cell row,
    // its weights' gate blocks reordered once from ONNX's i, o, f, c to PyTorch's i, f, c, o.
    const bool fused = kCell == Cell::kLstm && peep.empty() && clip <= 0 && f.name == "Sigmoid" && g.name == "Tanh" &&
                       h_act.name == "Tanh";
    auto fused_order = [&](const Tensor& t) {
      if (!fused || !t.defined()) return t;
      const std::vector<Tensor> p = chunk(t, 4, 0);
      return cat({p[0], p[2], p[3], p[1]}, 0);
    };
    // Inference (nothing records, nothing traces, every sequence full length): the whole layer as
    // one GEMM per step and one fused pass (lstm_layer_inference), both biases summed.
    if (fused && !ragged && !GradMode::is_enabled() && current_op_observer() == nullptr) {
      const Tensor bias = wb.defined() && rb.defined() ? add(wb, rb) : wb.defined() ? wb : rb;
      const LstmLayerOutput out = lstm_layer_inference(x, wd, rd, bias, select(h0, 0, d), select(c0, 0, d), reverse,
                                                       /*onnx_gate_order=*/true);
      y_dirs.push_back(out.y);
      h_last.push_back(out.h);
      c_last.push_back(out.c);
      continue;
    }
    // All steps' input projections at once: [seq, batch, gates * hidden].
    const Tensor xw = linear(x, fused_order(wd), fused_order(wb));
    const Tensor rd_step = fused_order(rd), rb_step = fused_order(rb);
    Tensor h = select(h0, 0, d), cell = kCell == Cell::kLstm ? select(c0, 0, d) : Tensor();
    std::vector<Tensor> ys(seq);
    for (int64_t step = 0; step < seq; ++step) {
      const int64_t t = reverse ? seq - 1 - step : step;
      const Tensor xt = select(xw, 0, t);
      Tensor h_new, c_new;
      if constexpr (kCell == Cell::kRnn) {
        h_new = f(clipped(add(xt, linear(h, rd, rb))));
      } else if constexpr (kCell == Cell::kGru) {
        const std::vector<Tensor> xg = chunk(xt, 3, 1);
        const std::vector<Tensor> rw = chunk(rd, 3, 0);
        const std::vector<Tensor> rbs = rb.defined() ? chunk(rb, 3, 0) : std::vector<Tensor>(3);
        const Tensor z = f(clipped(add(xg[0], linear(h, rw[0], rbs[0]))));
        const Tensor rr = f(clipped(add(xg[1], linear(h, rw[1], rbs[1]))));
        const Tensor hh = linear_before_reset ? g(clipped(add(xg[2], mul(rr, linear(h, rw[2], rbs[2])))))
                                              : g(clipped(add(xg[2], linear(mul(rr, h), rw[2], rbs[2]))));
        h_new = add(mul(1.0 - z, hh), mul(z, h));
      } else if (fused) {
        std::tie(h_new, c_new) = fused_lstm_cell(add(xt, linear(h, rd_step, rb_step)), cell);
      } else {
        const std::vector<Tensor> gs = chunk(add(xt, linear(h, rd, rb)), 4, 1);  // i, o, f, c
        Tensor gi = gs[0], go = gs[1], gf = gs[2];
        if (!peep.empty()) {
          gi = add(gi, mul(peep[0], cell));
          gf = add(gf, mul(peep[2], cell));
        }
        const Tensor i = f(clipped(gi)), fg = f(clipped(gf)), cand = g(clipped(gs[3]));
        c_new = add(mul(fg, cell), mul(i, cand));
        if (!peep.empty()) go = add(go, mul(peep[1], c_new));
        const Tensor o = f(clipped(go));
        h_new = mul(o, h_act(c_new));
      }
      if (ragged) {
        std::vector<double> live(batch);
        for (int64_t b = 0; b < batch; ++b) live[b] = t < lengths[b] ? 1.0 : 0.0;
        const Tensor keep = gt(tensor(live, {batch, 1}, kFloat64), 0.5);
        h_new = where(keep, h_new, h);
        if (kCell == Cell::kLstm) c_new = where(keep, c_new, cell);
        ys[t] = where(keep, h_new, zeros_like(h_new));
      } else {
        ys[t] = h_new;
      }
      h = h_new;
      cell = c_new;
    }
    y_dirs.push_back(seq > 0 ? stack(ys, 0) : zeros({0, batch, hidden}, x.dtype()));
    h_last.push_back(h);
    if (kCell == Cell::kLstm) c_last.push_back(cell);
  }
  Tensor y = stack_directions(y_dirs, 1);  // [seq, dirs, batch, hidden]
  Tensor yh = stack_directions(h_last, 0);  // [dirs, batch, hidden]
  Tensor yc = kCell == Cell::kLstm ? stack_directions(c_last, 0) : Tensor();
  if (batch_first) {
    y = permute(y, {2, 0, 1, 3});  // [batch, seq, dirs, hidden]
    yh = transpose(yh, 0, 1);
    if (yc.defined()) yc = transpose(yc, 0, 1);
  }
  if (kCell == Cell::kLstm) return {y, yh, yc};
  return {y, yh};
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "RNN", .convert = recurrent<Cell::kRnn>, .min_inputs = 3, .max_inputs = 6, .max_outputs = 2,
     .constant_inputs = {4}},
    {.op_type = "GRU", .convert = recurrent<Cell::kGru>, .min_inputs = 3, .max_inputs = 6, .max_outputs = 2,
     .constant_inputs = {4}},
    {.op_type = "LSTM", .convert = recurrent<Cell::kLstm>, .min_inputs = 3, .max_inputs = 8, .max_outputs = 3,
     .constant_inputs = {4}},
});

}  // namespace

}  // namespace tg::io
