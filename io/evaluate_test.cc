// tapegrad/io/evaluate_test.cc: next_token_loss against the loss computed window by window by hand,
// its window limit, its errors, and that it leaves the model's mode as it was.
#include "io/evaluate.h"

#include <cmath>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "nn/nn.h"

namespace tg::io {
namespace {

// Logits of the next token from the current one alone: a V x V table.
class Bigram : public nn::Module {
 public:
  explicit Bigram(int64_t vocab) : Module("Bigram") {
    table_ = register_module("table", std::make_shared<nn::Embedding>(vocab, vocab));
  }
  Tensor forward(const Tensor& ids) override { return (*table_)(ids); }

 private:
  std::shared_ptr<nn::Embedding> table_;
};

// -log softmax(table[a])[b], summed over the consecutive pairs of tokens[from, to].
double pair_nats(Bigram& model, const std::vector<int64_t>& tokens, int64_t from, int64_t to) {
  NoGradGuard no_grad;
  double nats = 0;
  for (int64_t i = from; i < to; ++i) {
    const Tensor logp = log_softmax(model(tensor(std::vector<int64_t>{tokens[i]}, {1, 1}, kInt64)).reshape({-1}), 0);
    nats -= logp.index({tokens[i + 1]}).item();
  }
  return nats;
}

TEST(NextTokenLoss, IsTheMeanLossOverConsecutiveWindows) {
  manual_seed(1);
  Bigram model(5);
  std::vector<int64_t> tokens;
  for (int i = 0; i < 300; ++i) tokens.push_back((i * 7 + i / 3) % 5);
  model.train();
  // 299 predictable tokens make 74 windows of 4 (the last 3 left over), in two batches of 64 + 10.
  EXPECT_NEAR(next_token_loss(model, tokens, 4), pair_nats(model, tokens, 0, 296) / 296, 1e-5);
  EXPECT_TRUE(model.is_training());
  EXPECT_NEAR(next_token_loss(model, tokens, 4, 3), pair_nats(model, tokens, 0, 12) / 12, 1e-5);
  EXPECT_NEAR(next_token_loss(model, tokens, 299), pair_nats(model, tokens, 0, 299) / 299, 1e-5);
  model.eval();
  next_token_loss(model, tokens, 7);
  EXPECT_FALSE(model.is_training());
  EXPECT_THROW(next_token_loss(model, tokens, 300), Error);  // not one window + 1
  EXPECT_THROW(next_token_loss(model, tokens, 0), Error);
  EXPECT_THROW(next_token_loss(model, {}, 1), Error);
  nn::Linear not_a_language_model(1, 1);
  EXPECT_THROW(next_token_loss(not_a_language_model, tokens, 4), Error);
}

}  // namespace
}  // namespace tg::io
