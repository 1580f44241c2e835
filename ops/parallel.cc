// tapegrad/ops/parallel.cc: thread-count control for OpenMP and OpenBLAS.
#include "ops/parallel.h"

#include <omp.h>

#include "ops/error.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace tg {

void set_num_threads(int threads) {
  TG_CHECK(threads >= 1, "set_num_threads: expected >= 1 thread, got ", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tg
