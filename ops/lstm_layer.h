// tapegrad/ops/lstm_layer.h: one LSTM layer (one direction) over a whole sequence, for inference:
// no activations are kept, so nothing can differentiate it (the fused_lstm_cell row per step is the
// differentiable form). Per step t the gates are x[t] w^T + h r^T + bias (PyTorch's gate order i,
// f, g, o; Note [LSTM layer by units] in the .cc for how threads share it), then the cell of
// ops/lstm_cell.h in the same pass as the bias:
//   c' = sigmoid(z_f) c + sigmoid(z_i) tanh(z_g),  h' = sigmoid(z_o) tanh(c')
// with no autograd node, allocation or separate elementwise op per step.
#pragma once

#include <array>

#include "ops/array.h"

namespace tg::ops {

struct LstmLayerResult {
  Array y;     // [T, B, H]: h at every step, in time order
  Array h, c;  // [B, H]: the last step's (the first time step's when reverse)
};
// Which block of H rows of the weights (and bias) holds the i, f, g and o gates: PyTorch's order
// is {0, 1, 2, 3}, ONNX's (i, o, f, c) is {0, 2, 3, 1}.
using GateBlocks = std::array<int, 4>;
inline constexpr GateBlocks kPyTorchGates{0, 1, 2, 3}, kOnnxGates{0, 2, 3, 1};

// x [T, B, F] (any strides); w [4H, F] and r [4H, H]: the input and recurrent weights; bias [4H]
// (both biases summed) or undefined, the gates in `gates` order; h0 and c0 [B, H]; float32 or
// float64, one dtype. reverse runs t = T-1 down to 0. Throws naming the shapes when they do not fit.
LstmLayerResult lstm_layer(const Array& x, const Array& w, const Array& r, const Array& bias, const Array& h0,
                           const Array& c0, bool reverse, GateBlocks gates = kPyTorchGates);

}  // namespace tg::ops
