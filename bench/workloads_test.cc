// tapegrad/bench/workloads_test.cc: the benchmark workloads compute what they claim: KV-cache
// generation equal to the naive loop while the window lasts (and running past it), and the
// models' output shapes. (The corpus reader is io/text_corpus, tested there.)
#include "bench/workloads.h"

#include "gtest/gtest.h"

namespace tg::bench {
namespace {

TEST(CharGpt, CachedGenerationMatchesTheNaiveLoopAndRunsPastTheWindow) {
  manual_seed(3);
  CharGpt gpt(CharGptOptions{.vocab_size = 11, .context = 16, .d_model = 16, .heads = 2, .layers = 2, .mlp = 32});
  const std::vector<int64_t> prompt{1, 5, 2, 7};
  const std::vector<int64_t> cached = gpt.generate(prompt, 40, true), naive = gpt.generate(prompt, 40, false);
  ASSERT_EQ(cached.size(), 40u);
  // While prompt + generated fit in the window both see the same context.
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(cached[i], naive[i]) << i;
  for (int64_t t : cached) EXPECT_TRUE(t >= 0 && t < 11);
  EXPECT_EQ(gpt(zeros({3, 16}, kInt64)).shape(), (Shape{3, 16, 11}));
  EXPECT_THROW(gpt(zeros({1, 17}, kInt64)), Error);  // longer than the positions
}

TEST(Workloads, ModelsGiveTheirOutputShapes) {
  LstmLm lm(9, 8, 12);
  EXPECT_EQ(lm(zeros({2, 5}, kInt64)).shape(), (Shape{2, 5, 9}));
  auto resnet = make_resnet8();
  EXPECT_EQ((*resnet)(randn({2, 1, 28, 28})).shape(), (Shape{2, 10}));
}

}  // namespace
}  // namespace tg::bench
