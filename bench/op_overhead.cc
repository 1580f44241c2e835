// tapegrad/bench/op_overhead.cc: per-op framework overhead (Google Benchmark), on tensors so tiny
// that the arithmetic is free and what is left is dispatch, allocation and the tape.
//   bazel run -c opt //bench:op_overhead
// BM_AddNoRecording: add of two 4-element tensors that do not require grad (target < 1 µs).
// BM_AddRecording: the same with inputs that require grad, so a tape node is recorded (< 2 µs).
// BM_Backward10OpChain: forward and backward of a chain of 10 ops on 4-element tensors.
// BM_BackwardThroughStepSelects/T: a loop over the T steps of a [32, T, 256] tensor that requires
// grad (select, a product, a sum per step) and its backward: linear in T when the slices'
// gradients go into one buffer (autograd/engine.cc, Note [Slice gradients]), quadratic otherwise.
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

void BM_BackwardThroughStepSelects(benchmark::State& state) {
  const int64_t steps = state.range(0);
  Tensor x = randn({32, steps, 256}).set_requires_grad();
  for (auto _ : state) {
    Tensor total = zeros({});
    for (int64_t t = 0; t < steps; ++t) total = total + sum(x.select(1, t) * 0.5);
    total.backward();
    x.set_grad(Tensor());
  }
  state.SetComplexityN(steps);
}
BENCHMARK(BM_BackwardThroughStepSelects)->Arg(16)->Arg(64)->Arg(256)->Complexity();

}  // namespace
}  // namespace tg
