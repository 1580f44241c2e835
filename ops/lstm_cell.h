// tapegrad/ops/lstm_cell.h: the pointwise part of an LSTM step as one kernel each way (the
// fused_lstm_cell row, autograd/functions/rnn_cell.cc): from the gate pre-activations
// z = [z_i, z_f, z_g, z_o] ([..., 4H], PyTorch's gate order) and the previous cell state c
// ([..., H]):
//   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//   c' = f c + i g,  h' = o tanh(c')
// One pass over memory instead of a dozen elementwise ops, allocations and strided gate views;
// the activations come from the same per-ISA kernels as the sigmoid and tanh ops.
#pragma once

#include "ops/array.h"

namespace tg::ops {

struct LstmCellResult {
  Array output;       // [..., 2H]: h' in [..., :H], c' in [..., H:]
  Array activations;  // [..., 5H]: i, f, g, o, tanh(c'), what the backward reads
};
// Float32 or float64; c_prev may be undefined (the zero state: c' = i g). Throws naming the
// shapes when gates is not [..., 4H] with c_prev [..., H] of the same leading dims and dtype.
LstmCellResult lstm_cell(const Array& gates, const Array& c_prev);

struct LstmCellGrads {
  Array gates, c_prev;  // dL/dgates [..., 4H], dL/dc_prev [..., H] (undefined without c_prev)
};
// From grad = dL/d[h', c'] ([..., 2H]), the previous cell state and the forward's activations.
LstmCellGrads lstm_cell_backward(const Array& grad, const Array& c_prev, const Array& activations);

}  // namespace tg::ops
