// tapegrad/ops/internal/core_share.h: how many cores other processes leave us, read from the
// kernel's CPU accounting, and the team size that follows from it (Note [Sharing the cores] in
// ops/parallel.h). Linux only; elsewhere read_cpu_usage() fails and the team stays as set.
#pragma once

#include <vector>

#include "absl/strings/string_view.h"

namespace tg::ops::internal {

// Cumulative CPU time, in seconds, at one moment.
struct CpuUsage {
  int cores = 0;    // CPUs this process may run on (its affinity mask)
  double busy = 0;  // time those CPUs spent running anything (user, nice, system, irq, softirq)
  double own = 0;   // time this process's threads ran
  double wall = 0;  // a monotonic clock
};

// Busy seconds of the CPUs numbered `cpus` in /proc/stat's text (its "cpuN user nice system idle
// iowait irq softirq steal ..." lines, in ticks); -1 when a CPU has no well-formed line.
double busy_seconds_from_proc_stat(absl::string_view text, const std::vector<int>& cpus, double ticks_per_second);

// The current usage, or false when the accounting cannot be read.
bool read_cpu_usage(CpuUsage* out);

// The team size to use next, given the current one, the most threads allowed, the usable cores
// and the cores other processes kept busy over the last window (averaged). Shrinks when the team
// no longer fits beside the others, grows by one when a whole core has been free; the margins
// keep measurement noise (about 0.1 core per 100 ms window) from flipping the size.
int next_team_size(int team, int max_team, int cores, double others_busy_cores);

}  // namespace tg::ops::internal
