// tapegrad/bench/best_seconds.h: the best wall time of a function over repeated runs, after
// warm-up runs (the benchmarks' way of timing one piece of work on a noisy, shared machine).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

namespace tg::bench {

inline double best_seconds(const std::function<void()>& fn, int runs, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) fn();
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  }
  return best;
}

}  // namespace tg::bench
