// tapegrad/ops/internal/core_share.cc: CPU accounting from /proc/stat and the affinity mask, and
// the team-size rule (see core_share.h).
#include "ops/internal/core_share.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tg::ops::internal {

double busy_seconds_from_proc_stat(absl::string_view text, const std::vector<int>& cpus, double ticks_per_second) {
  std::vector<double> busy(cpus.size(), -1);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "cpu") || line.empty() || line[0] == ' ') continue;  // skip the total
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int cpu;
    if (fields.size() < 8 || !absl::SimpleAtoi(fields[0], &cpu)) continue;
    auto at = std::find(cpus.begin(), cpus.end(), cpu);
    if (at == cpus.end()) continue;
    // user nice system idle iowait irq softirq: the busy ones are 1, 2, 3, 6, 7 (steal, time the
    // hypervisor gave to other machines, is not ours to use either way).
    double sum = 0;
    for (int f : {1, 2, 3, 6, 7}) {
      double v;
      if (!absl::SimpleAtod(fields[f], &v)) return -1;
      sum += v;
    }
    busy[at - cpus.begin()] = sum / ticks_per_second;
  }
  double total = 0;
  for (double b : busy) {
    if (b < 0) return -1;
    total += b;
  }
  return total;
}

namespace {

double clock_seconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

bool read_file(const char* path, std::string* out) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return false;
  char buf[8192];
  out->clear();
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out->append(buf, n);
  std::fclose(f);
  return !out->empty();
}

}  // namespace

bool read_cpu_usage(CpuUsage* out) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::string text;
  if (cpus.empty() || ticks <= 0 || !read_file("/proc/stat", &text)) return false;
  const double busy = busy_seconds_from_proc_stat(text, cpus, ticks);
  if (busy < 0) return false;
  out->cores = static_cast<int>(cpus.size());
  out->busy = busy;
  out->own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  out->wall = clock_seconds(CLOCK_MONOTONIC);
  return true;
#else
  (void)out;
  return false;
#endif
}

int next_team_size(int team, int max_team, int cores, double others_busy_cores) {
  const int most = std::max(1, std::min(max_team, cores));
  const double room = static_cast<double>(cores) - std::max(0.0, others_busy_cores);  // cores left for us
  if (team > most) return most;
  if (room < team - 0.5) return std::clamp(static_cast<int>(std::floor(room + 0.5)), 1, most);
  if (room >= team + 0.7 && team < most) return team + 1;
  return std::max(team, 1);
}

}  // namespace tg::ops::internal
