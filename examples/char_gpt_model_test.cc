// tapegrad/examples/char_gpt_model_test.cc: the example models compute what they claim: KV-cache
// generation equal to the naive loop while the window lasts (and running past it), sampling that
// follows its options (top_k 1 is greedy, a seed repeats a sample, tokens stay in the vocabulary),
// and ResNet-8's output shapes.
#include "examples/char_gpt_model.h"

#include "examples/resnet.h"
#include "gtest/gtest.h"

namespace tg::examples {
namespace {

CharGpt small_gpt() {
  return CharGpt(CharGptOptions{.vocab_size = 11, .context = 16, .d_model = 16, .heads = 2, .layers = 2, .mlp = 32});
}

TEST(CharGpt, CachedGenerationMatchesTheNaiveLoopAndRunsPastTheWindow) {
  manual_seed(3);
  CharGpt gpt = small_gpt();
  const std::vector<int64_t> prompt{1, 5, 2, 7};
  const std::vector<int64_t> cached = gpt.generate(prompt, 40, true), naive = gpt.generate(prompt, 40, false);
  ASSERT_EQ(cached.size(), 40u);
  // While prompt + generated fit in the window both see the same context.
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(cached[i], naive[i]) << i;
  for (int64_t t : cached) EXPECT_TRUE(t >= 0 && t < 11);
  EXPECT_EQ(gpt(zeros({3, 16}, kInt64)).shape(), (Shape{3, 16, 11}));
  EXPECT_THROW(gpt(zeros({1, 17}, kInt64)), Error);  // longer than the positions
}

TEST(CharGpt, SamplingFollowsTemperatureAndTopK) {
  manual_seed(4);
  CharGpt gpt = small_gpt();
  const std::vector<int64_t> prompt{3, 1};
  const std::vector<int64_t> greedy = gpt.generate(prompt, 30, true);
  // Only the likeliest token left: sampling is greedy whatever the temperature.
  EXPECT_EQ(gpt.generate(prompt, 30, true, {.temperature = 5.0, .top_k = 1}), greedy);
  // The same seed gives the same sample, cached or not while the window lasts.
  manual_seed(9);
  const std::vector<int64_t> a = gpt.generate(prompt, 12, true, {.temperature = 1.5});
  manual_seed(9);
  const std::vector<int64_t> b = gpt.generate(prompt, 12, false, {.temperature = 1.5});
  EXPECT_EQ(a, b);
  for (int64_t t : a) EXPECT_TRUE(t >= 0 && t < 11);
  // A hot sample of an untrained model is not the greedy one.
  manual_seed(10);
  EXPECT_NE(gpt.generate(prompt, 30, true, {.temperature = 3.0}), greedy);
  // top_k 2: every sampled token is one of the two likeliest after its context.
  manual_seed(11);
  const std::vector<int64_t> top2 = gpt.generate(prompt, 10, false, {.temperature = 2.0, .top_k = 2});
  std::vector<int64_t> seq = prompt;
  for (int64_t t : top2) {
    const Tensor logits = gpt(tensor(seq, {1, static_cast<int64_t>(seq.size())}, kInt64));
    const Tensor last = select(logits, 1, logits.size(1) - 1).reshape({-1});
    const std::vector<int64_t> best = std::get<1>(topk(last, 2)).to_vector<int64_t>();
    EXPECT_TRUE(t == best[0] || t == best[1]) << t;
    seq.push_back(t);
  }
  EXPECT_THROW(gpt.generate(prompt, 3, true, {.temperature = -1.0}), Error);
  EXPECT_THROW(gpt.generate({}, 3, true), Error);
}

TEST(ResNet8, GivesOneScorePerClassAtAnyWidth) {
  EXPECT_EQ((*make_resnet8())(randn({2, 1, 28, 28})).shape(), (Shape{2, 10}));
  auto wide = make_resnet8(3, 5, 2);
  EXPECT_EQ((*wide)(randn({2, 3, 32, 32})).shape(), (Shape{2, 5}));
  EXPECT_GT(wide->num_parameters(), make_resnet8(3, 5, 1)->num_parameters() * 3);
  EXPECT_THROW(make_resnet8(1, 10, 0), Error);
}

}  // namespace
}  // namespace tg::examples
