// tapegrad/bench/workloads.h: the three workloads of bench/workload_throughput, built from
// tapegrad's public API the way a user would write them (bench/pytorch_workload_throughput.py
// holds the same models in PyTorch):
//   char_gpt       examples/char_gpt_model.h: a decoder-only transformer over the bytes of
//                  Debian's fortunes, with greedy generation through a key/value cache or the
//                  naive re-run of the whole context;
//   lstm_lm        Embedding -> 2-layer LSTM -> Linear over the same bytes (here);
//   resnet_fmnist  examples/resnet.h's ResNet-8 on Fashion-MNIST.
#pragma once

#include <memory>

#include "autograd/tapegrad.h"
#include "examples/char_gpt_model.h"
#include "examples/resnet.h"
#include "nn/nn.h"

namespace tg::bench {

using examples::CharGpt;
using examples::CharGptOptions;
using examples::make_resnet8;

class LstmLm : public nn::Module {
 public:
  LstmLm(int64_t vocab_size, int64_t embedding = 128, int64_t hidden = 256, int64_t layers = 2);
  Tensor forward(const Tensor& tokens) override;  // [B, T] -> logits [B, T, V]

 private:
  std::shared_ptr<nn::Embedding> embedding_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

}  // namespace tg::bench
