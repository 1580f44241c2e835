// tapegrad/nn/rnn.h: the recurrent layers as torch::nn's: RNN (tanh or relu), LSTM and GRU over a
// sequence (num_layers, batch_first, bidirectional, dropout between layers, initial states), and
// the single-step RNNCell, LSTMCell and GRUCell. Weights are laid out and named as PyTorch's
// (weight_ih_l0 [G*H, F], weight_hh_l0 [G*H, H], bias_ih_l0, bias_hh_l0, ..._reverse; gates
// i, f, g, o for the LSTM and r, z, n for the GRU), all initialized U(-1/sqrt(H), 1/sqrt(H)), so
// state dicts map one to one. Inputs are [T, N, F] ([N, T, F] with batch_first, or unbatched
// [T, F]); states [num_layers * num_directions, N, H]. Every time step's input projection is one
// GEMM over the whole sequence; without an initial state the first step skips the zero state, so
// a traced graph keeps the batch symbolic.
//   nn::LSTM lstm(nn::LSTMOptions{.input_size = 28, .hidden_size = 128, .batch_first = true});
//   auto [out, state] = lstm.forward(x);        // out [N, T, 128]; state = (h_n, c_n)
#pragma once

#include <optional>
#include <tuple>
#include <utility>

#include "nn/module.h"

namespace tg::nn {

struct RNNOptionsBase {
  int64_t input_size, hidden_size;
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;  // on the outputs of every layer but the last, when training
  bool bidirectional = false;
  DType dtype = kFloat32;
};

// RNN's cell: tanh (default) or relu.
enum class RNNNonlinearity { kTanh, kReLU };

struct RNNOptions : RNNOptionsBase {
  RNNNonlinearity nonlinearity = RNNNonlinearity::kTanh;
};
using LSTMOptions = RNNOptionsBase;
using GRUOptions = RNNOptionsBase;

// The layers, directions and their parameters; the sequence loop is shared by RNN, LSTM and GRU.
class RNNBase : public Module {
 public:
  enum class Mode { kRNNTanh, kRNNReLU, kLSTM, kGRU };
  void reset_parameters();
  std::string extra_repr() const override;
  // Parameters of layer `layer`, direction `reverse`: {weight_ih, weight_hh, bias_ih, bias_hh}
  // (biases undefined without bias).
  std::vector<Tensor> layer_parameters(int64_t layer, bool reverse) const;

  const RNNOptionsBase options;
  const Mode mode;

 protected:
  RNNBase(const char* type_name, Mode mode, RNNOptionsBase options);
  // outputs [N, T, D*H] batch-major, the final h and (LSTM) c per layer and direction.
  struct Result {
    Tensor output, h_n, c_n;
  };
  Result run(const Tensor& input, const Tensor& h0, const Tensor& c0);

 private:
  int64_t gates() const;
};

class RNN : public RNNBase {
 public:
  explicit RNN(RNNOptions options);
  RNN(int64_t input_size, int64_t hidden_size) : RNN(RNNOptions{{input_size, hidden_size}}) {}
  // (output, h_n); hx [num_layers * D, N, H] or undefined (zeros).
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx);
  Tensor forward(const Tensor& input) override { return std::get<0>(forward(input, Tensor())); }
};

class LSTM : public RNNBase {
 public:
  explicit LSTM(LSTMOptions options) : RNNBase("LSTM", Mode::kLSTM, options) {}
  LSTM(int64_t input_size, int64_t hidden_size) : LSTM(LSTMOptions{input_size, hidden_size}) {}
  // (output, (h_n, c_n)); hx = (h_0, c_0), each [num_layers * D, N, H], or none (zeros).
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(const Tensor& input,
                                                          std::optional<std::tuple<Tensor, Tensor>> hx);
  Tensor forward(const Tensor& input) override { return std::get<0>(forward(input, std::nullopt)); }
};

class GRU : public RNNBase {
 public:
  explicit GRU(GRUOptions options) : RNNBase("GRU", Mode::kGRU, options) {}
  GRU(int64_t input_size, int64_t hidden_size) : GRU(GRUOptions{input_size, hidden_size}) {}
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx);
  Tensor forward(const Tensor& input) override { return std::get<0>(forward(input, Tensor())); }
};

struct RNNCellOptions {
  int64_t input_size, hidden_size;
  bool bias = true;
  RNNNonlinearity nonlinearity = RNNNonlinearity::kTanh;  // RNNCell only
  DType dtype = kFloat32;
};

// One step: input [N, F] (or [F]), state [N, H] or undefined (zeros). Parameters weight_ih,
// weight_hh, bias_ih, bias_hh.
class RNNCellBase : public Module {
 public:
  void reset_parameters();
  std::string extra_repr() const override;
  const RNNCellOptions options;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 protected:
  RNNCellBase(const char* type_name, RNNCellOptions options, int64_t gates);
  // The input projection of a checked input, batched ([N, G*H]); `unbatched` says it was [F].
  Tensor project(const Tensor& input, bool* unbatched) const;
  Tensor state(const Tensor& hx, const Tensor& input, bool unbatched, const char* name) const;
};

class RNNCell : public RNNCellBase {
 public:
  explicit RNNCell(RNNCellOptions options) : RNNCellBase("RNNCell", options, 1) {}
  Tensor forward(const Tensor& input, const Tensor& hx);
  Tensor forward(const Tensor& input) override { return forward(input, Tensor()); }
};

class LSTMCell : public RNNCellBase {
 public:
  explicit LSTMCell(RNNCellOptions options) : RNNCellBase("LSTMCell", options, 4) {}
  LSTMCell(int64_t input_size, int64_t hidden_size) : LSTMCell(RNNCellOptions{input_size, hidden_size}) {}
  // (h', c').
  std::tuple<Tensor, Tensor> forward(const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx);
  Tensor forward(const Tensor& input) override { return std::get<0>(forward(input, std::nullopt)); }
};

class GRUCell : public RNNCellBase {
 public:
  explicit GRUCell(RNNCellOptions options) : RNNCellBase("GRUCell", options, 3) {}
  GRUCell(int64_t input_size, int64_t hidden_size) : GRUCell(RNNCellOptions{input_size, hidden_size}) {}
  Tensor forward(const Tensor& input, const Tensor& hx);
  Tensor forward(const Tensor& input) override { return forward(input, Tensor()); }
};

}  // namespace tg::nn
