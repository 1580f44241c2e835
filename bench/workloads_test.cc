// tapegrad/bench/workloads_test.cc: the LSTM workload gives its output shape (CharGpt and ResNet-8
// are tested with the examples that own them; the corpus reader is io/text_corpus, tested there).
#include "bench/workloads.h"

#include "gtest/gtest.h"

namespace tg::bench {
namespace {

TEST(Workloads, LstmLmGivesItsOutputShape) {
  LstmLm lm(9, 8, 12);
  EXPECT_EQ(lm(zeros({2, 5}, kInt64)).shape(), (Shape{2, 5, 9}));
}

}  // namespace
}  // namespace tg::bench
