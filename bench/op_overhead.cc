// tapegrad/bench/op_overhead.cc: per-op framework overhead (Google Benchmark), on tensors so tiny
// that the arithmetic is free and what is left is dispatch, allocation and the tape.
//   bazel run -c opt //bench:op_overhead
// BM_AddNoRecording: add of two 4-element tensors that do not require grad (target < 1 µs).
// BM_AddRecording: the same with inputs that require grad, so a tape node is recorded (< 2 µs).
// BM_Backward10OpChain: forward and backward of a chain of 10 ops on 4-element tensors.
#include "autograd/tapegrad.h"
#include "benchmark/benchmark.h"

namespace tg {
namespace {

void BM_AddNoRecording(benchmark::State& state) {
  const Tensor a = ones({4}), b = ones({4});
  for (auto _ : state) benchmark::DoNotOptimize(add(a, b));
}
BENCHMARK(BM_AddNoRecording);

void BM_AddRecording(benchmark::State& state) {
  const Tensor a = ones({4}).set_requires_grad(), b = ones({4}).set_requires_grad();
  for (auto _ : state) benchmark::DoNotOptimize(add(a, b));
}
BENCHMARK(BM_AddRecording);

void BM_Backward10OpChain(benchmark::State& state) {
  Tensor x = ones({4}).set_requires_grad();
  for (auto _ : state) {
    Tensor y = x;
    for (int i = 0; i < 5; ++i) y = tanh(y * 0.5);  // 10 recorded ops
    sum(y).backward();
    x.set_grad(Tensor());
  }
}
BENCHMARK(BM_Backward10OpChain);

}  // namespace
}  // namespace tg
