// tapegrad/ops/internal/core_share_test.cc: the /proc/stat reader and the team-size rule of
// Note [Sharing the cores].
#include "ops/internal/core_share.h"

#include "gtest/gtest.h"

namespace tg::ops::internal {
namespace {

// The layout of Linux's /proc/stat: a total line, then one per CPU (user nice system idle iowait
// irq softirq steal guest guest_nice, in ticks).
constexpr const char* kProcStat =
    "cpu  900 0 300 5000 10 0 5 7 0 0\n"
    "cpu0 100 20 30 4000 10 4 6 500 0 0\n"
    "cpu1 200 0 50 1000 0 0 0 0 0 0\n"
    "cpu3 10 0 0 0 0 0 0 0 0 0\n"
    "intr 12345 1 2 3\n"
    "ctxt 999\n"
    "procs_running 3\n";

TEST(CoreShare, SumsTheBusyTicksOfTheGivenCpus) {
  // cpu0: user + nice + system + irq + softirq = 160 ticks (idle, iowait and steal are not busy).
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(kProcStat, {0}, 100), 1.60);
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(kProcStat, {1}, 100), 2.50);
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(kProcStat, {0, 1}, 100), 4.10);
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(kProcStat, {1, 3}, 50), 5.20);  // the total line never counts
}

TEST(CoreShare, RejectsMissingOrMalformedLines) {
  EXPECT_EQ(busy_seconds_from_proc_stat(kProcStat, {2}, 100), -1);  // no cpu2 line
  EXPECT_EQ(busy_seconds_from_proc_stat("", {0}, 100), -1);
  EXPECT_EQ(busy_seconds_from_proc_stat("cpu0 1 2 3\n", {0}, 100), -1);          // too few fields
  EXPECT_EQ(busy_seconds_from_proc_stat("cpu0 1 x 3 4 5 6 7 8\n", {0}, 100), -1);  // not a number
}

TEST(CoreShare, ReadsThisMachine) {
  CpuUsage a, b;
  ASSERT_TRUE(read_cpu_usage(&a));
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i;  // some CPU time of our own
  ASSERT_TRUE(read_cpu_usage(&b));
  EXPECT_GE(a.cores, 1);
  EXPECT_EQ(a.cores, b.cores);
  EXPECT_GT(b.own, a.own);
  EXPECT_GT(b.wall, a.wall);
  EXPECT_GE(b.busy, a.busy);
}

TEST(CoreShare, AloneKeepsEveryCore) {
  EXPECT_EQ(next_team_size(2, 2, 2, 0.0), 2);
  EXPECT_EQ(next_team_size(2, 2, 2, -0.1), 2);  // measurement noise below zero
  EXPECT_EQ(next_team_size(2, 2, 2, 0.5), 2);   // half a core busy elsewhere: still worth two
  EXPECT_EQ(next_team_size(8, 8, 8, 0.4), 8);
}

TEST(CoreShare, ShrinksToTheCoresOthersLeave) {
  EXPECT_EQ(next_team_size(2, 2, 2, 1.0), 1);  // another process on one core
  EXPECT_EQ(next_team_size(2, 2, 2, 0.6), 1);
  EXPECT_EQ(next_team_size(2, 2, 2, 2.0), 1);  // never below one thread
  EXPECT_EQ(next_team_size(2, 2, 2, 5.0), 1);
  EXPECT_EQ(next_team_size(8, 8, 8, 4.0), 4);
  EXPECT_EQ(next_team_size(8, 8, 8, 5.6), 2);
}

TEST(CoreShare, GrowsOneThreadAtATimeOnceACoreIsFree) {
  EXPECT_EQ(next_team_size(1, 2, 2, 1.0), 1);
  EXPECT_EQ(next_team_size(1, 2, 2, 0.4), 1);  // between the margins: stays (no flip-flopping)
  EXPECT_EQ(next_team_size(1, 2, 2, 0.25), 2);
  EXPECT_EQ(next_team_size(1, 8, 8, 0.0), 2);
  EXPECT_EQ(next_team_size(4, 8, 8, 3.0), 5);
}

TEST(CoreShare, StaysWithinTheMaximumAndTheCores) {
  EXPECT_EQ(next_team_size(2, 2, 8, 0.0), 2);  // set_num_threads' count is the ceiling
  EXPECT_EQ(next_team_size(4, 8, 2, 0.0), 2);  // more threads than usable cores
  EXPECT_EQ(next_team_size(3, 1, 4, 0.0), 1);
  EXPECT_EQ(next_team_size(1, 1, 1, 0.0), 1);
}

}  // namespace
}  // namespace tg::ops::internal
