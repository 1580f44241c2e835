// tapegrad/examples/sequence_models.cc: next-character models on a short text, as a LibTorch user
// writes them: an Embedding + LSTM and a small causal transformer (pre-norm encoder layers with
// learned positions), each trained for 200 AdamW steps on random windows. Quoted in README.md (a
// test keeps the two identical) and run by //examples:sequence_models_test: it exits non-zero
// unless both models cut their loss to under a third.
#include <cstdio>
#include <string>

#include "autograd/tapegrad.h"
#include "nn/nn.h"
#include "optim/optim.h"

using namespace tg;

constexpr int64_t kVocab = 128, kContext = 16, kBatch = 16, kDim = 32;

struct CharLstm : nn::Module {
  CharLstm() : Module("CharLstm") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(kVocab, kDim));
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions{
                                       .input_size = kDim, .hidden_size = 64, .num_layers = 2, .batch_first = true}));
    head = register_module("head", std::make_shared<nn::Linear>(64, kVocab));
  }
  Tensor forward(const Tensor& tokens) override {  // [N, T] -> logits [N, T, vocab]
    auto [hidden, state] = lstm->forward((*embed)(tokens), std::nullopt);
    return (*head)(hidden);
  }
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> head;
};

struct CharTransformer : nn::Module {
  CharTransformer() : Module("CharTransformer") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(kVocab, kDim));
    position = register_module("position", std::make_shared<nn::Embedding>(kContext, kDim));
    nn::TransformerEncoderLayerOptions layer{.d_model = kDim, .nhead = 4, .dim_feedforward = 64, .dropout = 0.0,
                                             .activation = "gelu", .batch_first = true, .norm_first = true};
    blocks = register_module("blocks", std::make_shared<nn::TransformerEncoder>(
                                           nn::TransformerEncoderOptions{layer, 2, /*final_norm=*/true}));
    head = register_module("head", std::make_shared<nn::Linear>(kDim, kVocab));
  }
  Tensor forward(const Tensor& tokens) override {
    const int64_t t = tokens.size(1);
    const Tensor x = (*embed)(tokens) + (*position)(arange(t));
    return (*head)(blocks->forward(x, nn::generate_square_subsequent_mask(t)));
  }
  std::shared_ptr<nn::Embedding> embed, position;
  std::shared_ptr<nn::TransformerEncoder> blocks;
  std::shared_ptr<nn::Linear> head;
};

// Trains on random windows of `text`; returns (first loss, last loss).
std::pair<double, double> train(nn::Module& model, const Tensor& text) {
  optim::AdamW optimizer(model.parameters(), /*lr=*/3e-3);
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    const Tensor starts = randint(0, text.size(0) - kContext - 1, {kBatch});
    std::vector<Tensor> inputs, targets;
    for (int64_t s : starts.to_vector<int64_t>()) {
      inputs.push_back(narrow(text, 0, s, kContext));
      targets.push_back(narrow(text, 0, s + 1, kContext));
    }
    const Tensor logits = model(stack(inputs));  // [N, T, vocab]
    const Tensor loss = cross_entropy(reshape(logits, {-1, kVocab}), reshape(stack(targets), {-1}));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    (step == 0 ? first : last) = loss.item();
  }
  return {first, last};
}

int main() {
  manual_seed(0);
  std::string corpus;
  for (int i = 0; i < 30; ++i) corpus += "the tape is an operator graph; ";
  const Tensor text = tensor(std::vector<int64_t>(corpus.begin(), corpus.end()), {static_cast<int64_t>(corpus.size())}, kInt64);
  CharLstm lstm;
  CharTransformer transformer;
  bool ok = true;
  for (auto [name, model] : {std::pair<const char*, nn::Module*>{"lstm", &lstm}, {"transformer", &transformer}}) {
    const auto [first, last] = train(*model, text);
    std::printf("%s: loss %.3f -> %.3f after 200 steps\n", name, first, last);
    ok = ok && last < first / 3;
  }
  return ok ? 0 : 1;
}
