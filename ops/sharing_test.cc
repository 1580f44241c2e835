// tapegrad/ops/sharing_test.cc: the adaptive team of Note [Sharing the cores] against real load:
// it shrinks to one thread while another process keeps every core busy, comes back once the
// cores are free, and does not mistake its own threads' work for another process's. Runs alone
// (tag "exclusive"), since other tests' load would be load too.
#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ops/internal/core_share.h"
#include "ops/parallel.h"

namespace tg {
namespace {

using Clock = std::chrono::steady_clock;

int usable_cores() {
  ops::internal::CpuUsage usage;
  return ops::internal::read_cpu_usage(&usage) ? usage.cores : 0;
}

// Calls refresh_team_size() every 10 ms until the team has `threads` threads or `seconds` pass;
// returns the team size reached.
int wait_for_team(int threads, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    ops::refresh_team_size();
    if (get_num_threads() == threads) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return get_num_threads();
}

// The cores other processes keep busy over `seconds` (this one sleeping).
double others_busy_cores(double seconds) {
  ops::internal::CpuUsage a, b;
  if (!ops::internal::read_cpu_usage(&a)) return 0;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  if (!ops::internal::read_cpu_usage(&b)) return 0;
  return ((b.busy - a.busy) - (b.own - a.own)) / (b.wall - a.wall);
}

// Skips the test when something outside it (another job on the machine) is using the cores: the
// team would rightly shrink for it.
#define SKIP_IF_MACHINE_BUSY()                                                                  \
  if (const double others = others_busy_cores(0.3); others > 0.3)                              \
  GTEST_SKIP() << "other processes keep " << others << " cores busy; this test needs a quiet machine"

[[noreturn]] void spin() {
  for (std::atomic<long> i{0};; i.fetch_add(1, std::memory_order_relaxed)) {
  }
}

// A child process spinning on `threads` threads until killed.
pid_t start_spinner(int threads) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (int t = 1; t < threads; ++t) std::thread(spin).detach();
    spin();
  }
  return pid;
}

TEST(Sharing, AdaptiveUnlessTheCountIsFixed) {
  EXPECT_EQ(adaptive_threads(), std::getenv("OMP_NUM_THREADS") == nullptr);
  set_num_threads(1);
  EXPECT_FALSE(adaptive_threads());
  set_adaptive_threads(true);
  EXPECT_TRUE(adaptive_threads());
  EXPECT_EQ(get_num_threads(), 1);  // the ceiling is the count set last
}

TEST(Sharing, ShrinksWhileAnotherProcessBusiesTheCoresAndGrowsBack) {
  const int cores = usable_cores();
  if (cores < 2) GTEST_SKIP() << "needs 2 usable cores, has " << cores;
  SKIP_IF_MACHINE_BUSY();
  set_num_threads(cores);
  set_adaptive_threads(true);
  ASSERT_EQ(wait_for_team(cores, 0.5), cores) << "alone, the team keeps every core";

  const pid_t spinner = start_spinner(cores);
  ASSERT_GT(spinner, 0);
  const int loaded = wait_for_team(1, 3.0);
  kill(spinner, SIGKILL);
  waitpid(spinner, nullptr, 0);
  EXPECT_EQ(loaded, 1) << "another process spinning on all " << cores << " cores";

  if (wait_for_team(cores, 3.0 * cores) != cores) {
    SKIP_IF_MACHINE_BUSY();  // a job that started meanwhile
    ADD_FAILURE() << "the team did not grow back to " << cores << " threads after the other process ended";
  }
}

TEST(Sharing, OwnWorkIsNotLoad) {
  const int cores = usable_cores();
  if (cores < 2) GTEST_SKIP() << "needs 2 usable cores, has " << cores;
  SKIP_IF_MACHINE_BUSY();
  set_num_threads(cores);
  set_adaptive_threads(true);
  // Half a second of parallel work on our own team, checking the team between regions.
  std::vector<double> sums(static_cast<size_t>(cores));
  int smallest = cores;
  for (const auto end = Clock::now() + std::chrono::milliseconds(500); Clock::now() < end;) {
    ops::refresh_team_size();
    smallest = std::min(smallest, get_num_threads());
#pragma omp parallel
    {
      double s = 0;
      for (int i = 0; i < 2'000'000; ++i) s += i * 1e-9;
      sums[static_cast<size_t>(omp_get_thread_num())] += s;
    }
  }
  if (smallest != cores) {
    SKIP_IF_MACHINE_BUSY();
    ADD_FAILURE() << "the team shrank to " << smallest << " threads for its own work";
  }
}

TEST(Sharing, KeepsACountAThreadSetForItself) {
  int fresh = 0;  // a new thread's count: libgomp's default
  std::thread([&] { fresh = omp_get_max_threads(); }).join();
  if (fresh < 2) GTEST_SKIP() << "needs a default of 2 or more threads, has " << fresh;
  set_num_threads(fresh);
  set_adaptive_threads(true);  // the first 100 ms window keeps the full team, whatever the load
  int kept = 0;
  std::thread([&] {
    omp_set_num_threads(1);  // as the data loader's prefetch thread does
    ops::refresh_team_size();
    kept = get_num_threads();
  }).join();
  EXPECT_EQ(kept, 1);
  int managed = 0;
  std::thread([&] {
    ops::refresh_team_size();
    managed = get_num_threads();
  }).join();
  EXPECT_EQ(managed, fresh);
}

}  // namespace
}  // namespace tg
