// tapegrad/autograd/functions/rnn_cell.cc: fused_lstm_cell, the pointwise part of an LSTM step
// as one row (ops/lstm_cell.h): gates [..., 4H] and cell state [..., H] -> [h', c'] as
// [..., 2H]. nn's LSTM and LSTMCell run it once per step instead of a dozen elementwise rows.
// Without create_graph the backward is ops::lstm_cell_backward; under create_graph it is the same
// formula in differentiable rows, so higher orders work. ONNX: the chain Split, Sigmoid/Tanh,
// Mul, Add, Concat. Also lstm_layer_inference, a whole layer for inference (no row: nothing
// records it).
#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "autograd/op_table.h"
#include "ops/lstm_cell.h"
#include "ops/lstm_layer.h"

namespace tg {

namespace {

using internal::constant;

// The ONNX chain's first steps: the four gates (Split's outputs 0-3) and their activations.
const OnnxMapping kSplitGates = {
    .op_type = "Split", .inputs = {onnx_in(0)}, .fixed_ints = {{"axis", -1}}, .unused_outputs = 3};
OnnxMapping kSigmoidGate(int gate) { return {.op_type = "Sigmoid", .inputs = {onnx_step(0, gate)}}; }
const OnnxMapping kTanhGate = {.op_type = "Tanh", .inputs = {onnx_step(0, 2)}};

std::string without_cell_state(const Attrs&, const std::vector<bool>& input_present) {
  return input_present.size() > 1 && input_present[1] ? "" : "no cell state (the zero-state chain applies)";
}

const OpDef& kFusedLstmCell = define_op({
    .name = "fused_lstm_cell",
    .forward = [](ForwardContext& c) {
      ops::LstmCellResult r = ops::lstm_cell(c.in(0), c.has(1) ? c.in(1) : ops::Array());
      c.extras.push_back(std::move(r.activations));
      return r.output;
    },
    .backward = [](BackwardContext& c) -> Grads {
      if (!GradMode::is_enabled()) {  // no create_graph: the fused kernel on the saved activations
        const ops::LstmCellGrads g = ops::lstm_cell_backward(
            c.grad.data(), c.has_input(1) ? c.input(1).data() : ops::Array(), c.extra_array(0));
        return {constant(g.gates), g.c_prev.defined() ? constant(g.c_prev) : Tensor()};
      }
      const std::vector<Tensor> z = chunk(c.input(0), 4, -1), grads = chunk(c.grad, 2, -1);
      const Tensor i = sigmoid(z[0]), f = sigmoid(z[1]), g = tanh(z[2]), o = sigmoid(z[3]);
      const Tensor c_prev = c.has_input(1) ? c.input(1) : zeros_like(g);
      const Tensor tc = tanh(f * c_prev + i * g);
      const Tensor dc = grads[1] + grads[0] * o * (1.0 - tc * tc);
      const Tensor d_gates =
          cat({dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g), grads[0] * tc * o * (1.0 - o)},
              -1);
      return {d_gates, c.has_input(1) ? dc * f : Tensor()};
    },
    .save_inputs = {0, 1},
    .min_inputs = 1,
    .max_inputs = 2,  // no cell state: the zero state
    .onnx = {{.op_type = "fused_lstm_cell",
              .refuse = without_cell_state,
              .steps = {kSplitGates, kSigmoidGate(0), kSigmoidGate(1), kTanhGate, kSigmoidGate(3),
                        {.op_type = "Mul", .inputs = {onnx_step(2), onnx_in(1)}},
                        {.op_type = "Mul", .inputs = {onnx_step(1), onnx_step(3)}},
                        {.op_type = "Add", .inputs = {onnx_step(5), onnx_step(6)}},  // c'
                        {.op_type = "Tanh", .inputs = {onnx_step(7)}},
                        {.op_type = "Mul", .inputs = {onnx_step(4), onnx_step(8)}},  // h'
                        {.op_type = "Concat", .inputs = {onnx_step(9), onnx_step(7)}, .fixed_ints = {{"axis", -1}}}}},
             {.op_type = "fused_lstm_cell (zero state)",
              .steps = {kSplitGates, kSigmoidGate(0), kSigmoidGate(1), kTanhGate, kSigmoidGate(3),
                        {.op_type = "Mul", .inputs = {onnx_step(1), onnx_step(3)}},  // c' = i g
                        {.op_type = "Tanh", .inputs = {onnx_step(5)}},
                        {.op_type = "Mul", .inputs = {onnx_step(4), onnx_step(6)}},  // h'
                        {.op_type = "Concat", .inputs = {onnx_step(7), onnx_step(5)}, .fixed_ints = {{"axis", -1}}}}}},
});

}  // namespace

LstmLayerOutput lstm_layer_inference(const Tensor& x, const Tensor& w, const Tensor& r, const Tensor& bias,
                                     const Tensor& h0, const Tensor& c0, bool reverse, bool onnx_gate_order) {
  TG_CHECK(x.defined() && w.defined() && r.defined() && h0.defined() && c0.defined(),
           "lstm_layer_inference: undefined input");
  const bool records = GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || r.requires_grad() ||
                                                  (bias.defined() && bias.requires_grad()) || h0.requires_grad() ||
                                                  c0.requires_grad());
  TG_CHECK(!records && current_op_observer() == nullptr,
           "lstm_layer_inference: nothing can differentiate or trace it; run it under NoGradGuard without a tracer "
           "(fused_lstm_cell per step is the differentiable form)");
  ops::LstmLayerResult out = ops::lstm_layer(x.data(), w.data(), r.data(), bias.defined() ? bias.data() : ops::Array(),
                                             h0.data(), c0.data(), reverse,
                                             onnx_gate_order ? ops::kOnnxGates : ops::kPyTorchGates);
  return {Tensor(std::move(out.y)), Tensor(std::move(out.h)), Tensor(std::move(out.c))};
}

std::pair<Tensor, Tensor> fused_lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  const Tensor out = apply_op(kFusedLstmCell, {gates, c_prev});  // an undefined c_prev: the optional input left out
  const int64_t h = out.size(-1) / 2;
  return {narrow(out, -1, 0, h), narrow(out, -1, h, h)};
}

}  // namespace tg
