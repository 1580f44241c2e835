// tapegrad/ops/cpu_isa.h: the instruction-set level of tapegrad's own vector kernels
// (ops/internal/vector_kernels.h), chosen at run time from the CPU.
//
// Note [Portable binaries]: the default build compiles for x86-64-v2 (SSE4.2, POPCNT: every
// x86-64 CPU since 2008-2011, the baseline of current enterprise distributions), so a binary
// runs wherever it is copied. The loops that dominate training time (elementwise, pooling,
// softmax, the bias-gradient sum, optimizer updates) are compiled three times, for x86-64-v2, x86-64-v3 (AVX2, FMA) and
// x86-64-v4 (AVX-512 F/BW/CD/DQ/VL), and the best level this CPU and its OS support is used.
// oneDNN and OpenBLAS dispatch on their own. `--config=native` (-march=native) remains for those
// who build where they run.
//
// TG_MAX_CPU_ISA=baseline|avx2|avx512 in the environment (read once, like oneDNN's
// ONEDNN_MAX_CPU_ISA) or set_max_cpu_isa() caps the level, to compare paths or to reproduce
// results across machines.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace tg {

enum class CpuIsa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr CpuIsa kAllCpuIsas[] = {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512};

// The highest level this CPU (and its OS, for the vector registers' state) supports.
CpuIsa detected_cpu_isa();
// min(detected, cap): the level the kernels use now.
CpuIsa active_cpu_isa();
// Caps the level for the whole process (overrides TG_MAX_CPU_ISA); a cap above the CPU's level
// means the CPU's level; nullopt goes back to TG_MAX_CPU_ISA (read again at the next use). Not to
// be called while kernels run on other threads. An invalid TG_MAX_CPU_ISA makes active_cpu_isa()
// throw, naming the variable and the valid values.
void set_max_cpu_isa(std::optional<CpuIsa> cap);

const char* cpu_isa_name(CpuIsa isa);  // "baseline", "avx2", "avx512"
std::optional<CpuIsa> parse_cpu_isa(std::string_view name);

// The levels up to detected_cpu_isa(), lowest first: those this CPU can run.
std::vector<CpuIsa> runnable_cpu_isas();

// One level's kernel table of a cc_multi_isa_library: Kernels<float> and Kernels<double>.
template <template <typename> class Kernels>
struct PerIsaKernels {
  CpuIsa isa;
  Kernels<float> f32;
  Kernels<double> f64;

  template <typename T>
  const Kernels<T>& of() const {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double kernels only");
    if constexpr (sizeof(T) == 4) {
      return f32;
    } else {
      return f64;
    }
  }
};

// The variant of a per-ISA kernel table for level isa (cc_multi_isa_library compiles one per
// level: see ops/internal/vector_kernels.h).
template <typename Table>
const Table& for_isa(CpuIsa isa, const Table& baseline, const Table& avx2, const Table& avx512) {
  switch (isa) {
    case CpuIsa::kAvx512:
      return avx512;
    case CpuIsa::kAvx2:
      return avx2;
    case CpuIsa::kBaseline:
      break;
  }
  return baseline;
}

// In the header of a cc_multi_isa_library whose sources define `name` (TG_ISA_VARIANT below) as a
// PerIsaKernels<Kernels>: declares the three levels' tables, name_table(isa), the table of a
// level (for tests and benchmarks; a level above the CPU's must not run), and name<T>(isa), the
// kernels for T at a level (by default the active one).
#define TG_DECLARE_PER_ISA_KERNELS(Kernels, name)                                           \
  extern const ::tg::PerIsaKernels<Kernels> name##_baseline, name##_avx2, name##_avx512;  \
  inline const ::tg::PerIsaKernels<Kernels>& name##_table(::tg::CpuIsa isa) {             \
    return ::tg::for_isa(isa, name##_baseline, name##_avx2, name##_avx512);               \
  }                                                                                        \
  template <typename T>                                                                    \
  const Kernels<T>& name(::tg::CpuIsa isa = ::tg::active_cpu_isa()) {                      \
    return name##_table(isa).template of<T>();                                             \
  }

// In a source file of a cc_multi_isa_library: TG_ISA_VARIANT(name) is name_baseline, name_avx2 or
// name_avx512, after the level the file is being compiled for (TG_ISA_SUFFIX, set by the rule).
#define TG_ISA_CONCAT_(name, suffix) name##_##suffix
#define TG_ISA_CONCAT(name, suffix) TG_ISA_CONCAT_(name, suffix)
#define TG_ISA_VARIANT(name) TG_ISA_CONCAT(name, TG_ISA_SUFFIX)

}  // namespace tg
