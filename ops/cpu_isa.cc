// tapegrad/ops/cpu_isa.cc: CPU feature detection and the TG_MAX_CPU_ISA cap (see cpu_isa.h).
#include "ops/cpu_isa.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include "ops/error.h"

namespace tg {

namespace {

CpuIsa detect() {
#if defined(__x86_64__)
  // libgcc's checks include the OS's XCR0 bits, so a level is reported only if the kernel saves
  // its registers.
  __builtin_cpu_init();
#if defined(__clang__)
  // clang 14 (the fuzzer build) has no level names: the features that set the levels apart.
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
                  __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
#else
  const bool v3 = __builtin_cpu_supports("x86-64-v3"), v4 = __builtin_cpu_supports("x86-64-v4");
#endif
  if (v4) return CpuIsa::kAvx512;
  if (v3) return CpuIsa::kAvx2;
#endif
  return CpuIsa::kBaseline;
}

CpuIsa cap_from_environment() {
  const char* value = std::getenv("TG_MAX_CPU_ISA");
  if (value == nullptr || *value == '\0') return CpuIsa::kAvx512;
  const std::optional<CpuIsa> cap = parse_cpu_isa(value);
  TG_CHECK(cap.has_value(), "TG_MAX_CPU_ISA='", value, "' is not one of baseline, avx2, avx512");
  return *cap;
}

// -1 until the first use reads TG_MAX_CPU_ISA.
std::atomic<int> cap{-1};

}  // namespace

CpuIsa detected_cpu_isa() {
  static const CpuIsa isa = detect();
  return isa;
}

CpuIsa active_cpu_isa() {
  int c = cap.load(std::memory_order_relaxed);
  if (c < 0) {
    c = static_cast<int>(cap_from_environment());
    cap.store(c, std::memory_order_relaxed);
  }
  return static_cast<CpuIsa>(std::min(c, static_cast<int>(detected_cpu_isa())));
}

void set_max_cpu_isa(std::optional<CpuIsa> max) {
  cap.store(max ? static_cast<int>(*max) : -1, std::memory_order_relaxed);
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kBaseline:
      return "baseline";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "invalid";
}

std::vector<CpuIsa> runnable_cpu_isas() {
  std::vector<CpuIsa> levels;
  for (CpuIsa isa : kAllCpuIsas) {
    if (isa <= detected_cpu_isa()) levels.push_back(isa);
  }
  return levels;
}

std::optional<CpuIsa> parse_cpu_isa(std::string_view name) {
  for (CpuIsa isa : kAllCpuIsas) {
    if (name == cpu_isa_name(isa)) return isa;
  }
  return std::nullopt;
}

}  // namespace tg
