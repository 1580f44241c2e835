// tapegrad/ops/parallel_test.cc: denormal flushing (Note [Flushing denormals]) reaches the calling
// thread, OpenMP's pool (also after the team grows or shrinks) and threads started later.
#include <omp.h>

#include <cfloat>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ops/parallel.h"

namespace tg {
namespace {

// Whether this thread keeps a subnormal product (IEEE gradual underflow) or flushes it to zero.
bool keeps_subnormals() {
  volatile float tiny = FLT_MIN / 4;  // subnormal; volatile so the product is computed here
  const float product = tiny * 0.5f;
  return product != 0.0f;
}

// keeps_subnormals() on each thread of a team of `threads`, one entry per thread.
std::vector<bool> on_team(int threads) {
  std::vector<int> kept(static_cast<size_t>(threads), -1);
#pragma omp parallel num_threads(threads)
  kept[static_cast<size_t>(omp_get_thread_num())] = keeps_subnormals() ? 1 : 0;
  return {kept.begin(), kept.end()};
}

bool on_new_thread() {
  bool kept = true;
  std::thread([&] { kept = keeps_subnormals(); }).join();
  return kept;
}

// Runs first (gtest keeps the file's order): nothing has changed the process's default yet.
TEST(FlushDenormal, OnByDefaultEverywhere) {
  EXPECT_TRUE(flush_denormal());
  EXPECT_FALSE(keeps_subnormals());
  EXPECT_EQ(on_team(4), std::vector<bool>(4, false));
  EXPECT_FALSE(on_new_thread());
}

TEST(FlushDenormal, OffRestoresGradualUnderflowOnPoolAndNewThreads) {
  set_num_threads(3);
  ASSERT_TRUE(set_flush_denormal(false));
  EXPECT_FALSE(flush_denormal());
  EXPECT_TRUE(keeps_subnormals());
  EXPECT_EQ(on_team(3), std::vector<bool>(3, true));
  EXPECT_TRUE(on_new_thread());
  ASSERT_TRUE(set_flush_denormal(true));
  EXPECT_FALSE(keeps_subnormals());
  EXPECT_EQ(on_team(3), std::vector<bool>(3, false));
  EXPECT_FALSE(on_new_thread());
}

TEST(FlushDenormal, ThreadsKeptFromALargerTeamFollowTheMode) {
  set_num_threads(4);  // the pool now holds 4 threads
  set_num_threads(1);
  ASSERT_TRUE(set_flush_denormal(false));
  set_num_threads(4);  // reuses the 3 idle threads
  EXPECT_EQ(on_team(4), std::vector<bool>(4, true));
  set_num_threads(6);  // starts new ones
  EXPECT_EQ(on_team(6), std::vector<bool>(6, true));
  set_flush_denormal(true);
  EXPECT_EQ(on_team(6), std::vector<bool>(6, false));
}

}  // namespace
}  // namespace tg
