// tapegrad/ops/lstm_layer.h: one LSTM layer (one direction) over a whole sequence, for inference:
// no activations are kept, so nothing can differentiate it (the fused_lstm_cell row per step is the
// differentiable form). Per step t the gates are xw[t] + h r^T (PyTorch's gate order i, f, g, o),
// one GEMM, then the cell of ops/lstm_cell.h in the same pass as the add:
//   c' = sigmoid(z_f) c + sigmoid(z_i) tanh(z_g),  h' = sigmoid(z_o) tanh(c')
// with no autograd node, allocation or separate elementwise op per step.
#pragma once

#include "ops/array.h"

namespace tg::ops {

struct LstmLayerResult {
  Array y;     // [T, B, H]: h at every step, in time order
  Array h, c;  // [B, H]: the last step's (the first time step's when reverse)
};
// xw [T, B, 4H] (any strides but the last): every step's input projection with both biases;
// r [4H, H]: the recurrent
// weight; h0 and c0 [B, H]; float32 or float64, one dtype. reverse runs t = T-1 down to 0.
// Throws naming the shapes when they do not fit.
LstmLayerResult lstm_layer(const Array& xw, const Array& r, const Array& h0, const Array& c0, bool reverse);

}  // namespace tg::ops
