// tapegrad/bench/gemm_routes.cc: the float32 products of the MNIST architectures' linear layers,
// timed on each library ops::gemm can route them to, so the routing (Note [Which float32 GEMM
// library] in ops/blas.cc) can be checked on the machine at hand.
//   bazel run -c opt //bench:gemm_routes -- --threads=2
// For each product, row-major C[M,N] = op(A)[M,K] op(B)[K,N] with A or B transposed as the layer's
// pass has them, prints the GFLOP/s (best of 30 after warm-up) of OpenBLAS (cblas_sgemm), oneDNN's
// sgemm (dnnl_sgemm) and ops::gemm (the route it takes; for a transposed B with M, N >= 32 that is
// oneDNN's matmul primitive), and which of the first two the route is measured against:
//   fc1 forward  M=50 N=1024 K=3136 B^T   openblas X  dnnl_sgemm X  routed X
#include <cblas.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/best_seconds.h"
#include "oneapi/dnnl/dnnl.h"
#include "ops/blas.h"
#include "ops/parallel.h"

ABSL_FLAG(std::optional<int>, threads, std::nullopt, "fixed thread count (default: adaptive)");

namespace {


struct Product {
  const char* what;
  bool ta, tb;
  int64_t m, n, k;
};

// A linear layer [in -> out] at batch b: its forward x W^T, its input gradient gy W and its weight
// gradient gy^T x.
std::vector<Product> linear(const char* name, int64_t b, int64_t in, int64_t out) {
  return {{name, false, true, b, out, in}, {name, false, false, b, in, out}, {name, true, false, out, in, b}};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("GFLOP/s of the linear layers' products on each GEMM library");
  if (absl::ParseCommandLine(argc, argv).size() > 1) {
    std::fprintf(stderr, "gemm_routes: takes flags only (--help lists them)\n");
    return 2;
  }
  if (auto threads = absl::GetFlag(FLAGS_threads)) tg::set_num_threads(*threads);
  std::vector<Product> products = {{"square 2048", false, false, 2048, 2048, 2048}};
  for (const auto& layer : {linear("cnn_wide fc1", 50, 3136, 1024), linear("cnn_wide fc2", 50, 1024, 10),
                            linear("cnn_small fc", 50, 1568, 10), linear("cnn_fc3 fc1", 64, 3136, 1024),
                            linear("cnn_fc3 fc2", 64, 1024, 512), linear("cnn_fc3 fc3", 64, 512, 10)}) {
    products.insert(products.end(), layer.begin(), layer.end());
  }
  std::printf("threads %d\n", tg::get_num_threads());
  for (const Product& p : products) {
    const int64_t lda = p.ta ? p.m : p.k, ldb = p.tb ? p.k : p.n;
    std::vector<float> a(p.m * p.k, 0.5f), b(p.k * p.n, 0.25f), c(p.m * p.n);
    const double flops = 2.0 * p.m * p.n * p.k;
    const auto rate = [&](const std::function<void()>& fn) { return flops / tg::bench::best_seconds(fn, 30) / 1e9; };
    const double openblas = rate([&] {
      cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k,
                  1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), p.n);
    });
    const double onednn = rate([&] {
      dnnl_sgemm(p.ta ? 'T' : 'N', p.tb ? 'T' : 'N', p.m, p.n, p.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f,
                 c.data(), p.n);
    });
    const double routed = rate([&] {
      tg::ops::gemm(p.ta, p.tb, p.m, p.n, p.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), p.n);
    });
    const char* pass = p.ta ? "weight grad" : p.tb ? "forward" : "input grad";
    std::printf("%-13s %-11s M=%-4lld N=%-4lld K=%-4lld %s%s  openblas %6.1f  dnnl_sgemm %6.1f  routed %6.1f\n",
                p.what, p.m == 2048 ? "" : pass, static_cast<long long>(p.m), static_cast<long long>(p.n),
                static_cast<long long>(p.k), p.ta ? "A^T" : "   ", p.tb ? "B^T" : "   ", openblas, onednn, routed);
  }
  return 0;
}
