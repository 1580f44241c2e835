// tapegrad/bench/workloads.cc: see workloads.h.
#include "bench/workloads.h"

namespace tg::bench {

LstmLm::LstmLm(int64_t vocab_size, int64_t embedding, int64_t hidden, int64_t layers) : Module("LstmLm") {
  embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(vocab_size, embedding));
  lstm_ = register_module("lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions{
                                      .input_size = embedding, .hidden_size = hidden, .num_layers = layers, .batch_first = true}));
  head_ = register_module("head", std::make_shared<nn::Linear>(hidden, vocab_size));
}

Tensor LstmLm::forward(const Tensor& tokens) {
  return (*head_)(std::get<0>(lstm_->forward((*embedding_)(tokens), std::nullopt)));
}

}  // namespace tg::bench
