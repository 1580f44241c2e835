// tapegrad/bench/step_kernels.cc: the kernels of one cnn_small training step at batch 50, one by
// one (Google Benchmark), with 1 and 2 threads: where a step's time goes, kernel by kernel.
//   bazel run -c opt //bench:step_kernels
// Shapes: conv1 [50,1,28,28] -> [50,16,28,28], pool -> [50,16,14,14]; conv2 -> [50,32,14,14],
// pool -> [50,32,7,7]; and ResNet-8's batch norm. Each benchmark's argument is the thread count.
#include "benchmark/benchmark.h"
#include "ops/batch_norm.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/generator.h"
#include "ops/parallel.h"
#include "ops/pool.h"

namespace tg::ops {
namespace {

Array random(const Shape& shape) {
  static Generator gen(0);
  return normal(shape, 0, 1, kFloat32, gen);
}

const Shape kConv1Out = {50, 16, 28, 28}, kConv2Out = {50, 32, 14, 14};

void BM_MaxPoolForward(benchmark::State& state, Shape shape, bool with_indices,
                       MemoryFormat format = MemoryFormat::Contiguous) {
  set_num_threads(state.range(0));
  const Array x = random(shape).contiguous(format);
  for (auto _ : state) benchmark::DoNotOptimize(max_pool2d(x, Pool2dParams{}, with_indices));
}
BENCHMARK_CAPTURE(BM_MaxPoolForward, conv1_indices, kConv1Out, true)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolForward, conv1_no_indices, kConv1Out, false)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolForward, conv2_indices, kConv2Out, true)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolForward, conv1_indices_nhwc, kConv1Out, true, MemoryFormat::ChannelsLast)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolForward, conv2_indices_nhwc, kConv2Out, true, MemoryFormat::ChannelsLast)->Arg(1)->Arg(2);

void BM_MaxPoolBackward(benchmark::State& state, Shape shape, MemoryFormat format = MemoryFormat::Contiguous) {
  set_num_threads(state.range(0));
  const Array x = random(shape).contiguous(format);
  auto [out, indices] = max_pool2d(x, Pool2dParams{}, true);
  const Array grad = random(out.shape()).contiguous(format);
  for (auto _ : state) benchmark::DoNotOptimize(max_pool2d_backward(grad, indices, shape));
}
BENCHMARK_CAPTURE(BM_MaxPoolBackward, conv1, kConv1Out)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolBackward, conv2, kConv2Out)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolBackward, conv1_nhwc, kConv1Out, MemoryFormat::ChannelsLast)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_MaxPoolBackward, conv2_nhwc, kConv2Out, MemoryFormat::ChannelsLast)->Arg(1)->Arg(2);

void BM_Relu(benchmark::State& state, Shape shape) {
  set_num_threads(state.range(0));
  const Array x = random(shape);
  for (auto _ : state) benchmark::DoNotOptimize(unary(UnaryOp::kRelu, x));
}
BENCHMARK_CAPTURE(BM_Relu, conv1, kConv1Out)->Arg(1)->Arg(2);

void BM_ReluBackward(benchmark::State& state, Shape shape) {
  set_num_threads(state.range(0));
  const Array g = random(shape), y = unary(UnaryOp::kRelu, random(shape));
  for (auto _ : state) benchmark::DoNotOptimize(binary(BinaryOp::kMaskByPositive, g, y));
}
BENCHMARK_CAPTURE(BM_ReluBackward, conv1, kConv1Out)->Arg(1)->Arg(2);

// ResNet-8's widest batch norm (resnet_fmnist, batch 128) in both memory formats (Note
// [Channels last] in ops/array.cc): statistics, normalize, backward.
const Shape kResnetActivation = {128, 16, 28, 28};
void BM_BatchNorm(benchmark::State& state, MemoryFormat format, int part) {
  set_num_threads(state.range(0));
  const Array x = random(kResnetActivation).contiguous(format), g = random(kResnetActivation).contiguous(format);
  const auto [mean, var] = batch_norm_stats(x);
  const Array weight = random({16});
  for (auto _ : state) {
    if (part == 0) benchmark::DoNotOptimize(batch_norm_stats(x));
    if (part == 1) benchmark::DoNotOptimize(batch_norm_apply(x, mean, var, weight, weight));
    if (part == 2) benchmark::DoNotOptimize(batch_norm_backward(g, x, mean, var, weight, true, true, true, true));
  }
}
BENCHMARK_CAPTURE(BM_BatchNorm, stats_nchw, MemoryFormat::Contiguous, 0)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_BatchNorm, stats_nhwc, MemoryFormat::ChannelsLast, 0)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_BatchNorm, apply_nchw, MemoryFormat::Contiguous, 1)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_BatchNorm, apply_nhwc, MemoryFormat::ChannelsLast, 1)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_BatchNorm, backward_nchw, MemoryFormat::Contiguous, 2)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_BatchNorm, backward_nhwc, MemoryFormat::ChannelsLast, 2)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_Relu, resnet, kResnetActivation)->Arg(1)->Arg(2);

// cnn_small's convolutions: 5x5, stride 1, padding 2.
Conv2dParams padding_2() {
  Conv2dParams p;
  p.pad_h = p.pad_w = 2;
  return p;
}

void BM_Conv(benchmark::State& state, Shape in, Shape weight) {
  set_num_threads(state.range(0));
  const Array x = random(in), w = random(weight), b = random({weight[0]});
  const Conv2dParams p = padding_2();
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(x, w, b, p));
}
BENCHMARK_CAPTURE(BM_Conv, conv1, Shape{50, 1, 28, 28}, Shape{16, 1, 5, 5})->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_Conv, conv2, Shape{50, 16, 14, 14}, Shape{32, 16, 5, 5})->Arg(1)->Arg(2);

void BM_ConvBackwardData(benchmark::State& state, Shape in, Shape weight, Shape out) {
  set_num_threads(state.range(0));
  const Array g = random(out), w = random(weight);
  const Conv2dParams p = padding_2();
  for (auto _ : state) benchmark::DoNotOptimize(conv2d_backward_input(g, w, in, p));
}
BENCHMARK_CAPTURE(BM_ConvBackwardData, conv2, Shape{50, 16, 14, 14}, Shape{32, 16, 5, 5}, kConv2Out)->Arg(1)->Arg(2);

void BM_ConvBackwardWeights(benchmark::State& state, Shape in, Shape weight, Shape out) {
  set_num_threads(state.range(0));
  const Array x = random(in), g = random(out);
  const Conv2dParams p = padding_2();
  for (auto _ : state) benchmark::DoNotOptimize(conv2d_backward_weight(x, g, weight, p));
}
BENCHMARK_CAPTURE(BM_ConvBackwardWeights, conv1, Shape{50, 1, 28, 28}, Shape{16, 1, 5, 5}, kConv1Out)
    ->Arg(1)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_ConvBackwardWeights, conv2, Shape{50, 16, 14, 14}, Shape{32, 16, 5, 5}, kConv2Out)
    ->Arg(1)
    ->Arg(2);

// cnn_wide's convolutions (1 -> 32 on 28x28, 32 -> 64 on 14x14, 5x5, padding 2), each pass with
// the activations in either memory format (in channels last oneDNN reads and writes them as they
// are; in NCHW it reorders them to and from its blocked layout around each call).
enum class ConvPass { kForward, kBackwardData, kBackwardWeights };
void BM_WideConv(benchmark::State& state, ConvPass pass, MemoryFormat format, Shape in, Shape weight) {
  set_num_threads(state.range(0));
  const Shape out = conv2d_output_shape(in, weight, padding_2());
  const Array x = random(in).contiguous(format), g = random(out).contiguous(format), w = random(weight),
              b = random({weight[0]});
  for (auto _ : state) {
    switch (pass) {
      case ConvPass::kForward: benchmark::DoNotOptimize(conv2d(x, w, b, padding_2())); break;
      case ConvPass::kBackwardData: benchmark::DoNotOptimize(conv2d_backward_input(g, w, in, padding_2())); break;
      case ConvPass::kBackwardWeights:
        benchmark::DoNotOptimize(conv2d_backward_weight(x, g, weight, padding_2()));
        break;
    }
  }
}
const Shape kWide1In = {50, 1, 28, 28}, kWide1W = {32, 1, 5, 5}, kWide2In = {50, 32, 14, 14}, kWide2W = {64, 32, 5, 5};
BENCHMARK_CAPTURE(BM_WideConv, conv1_fwd_nchw, ConvPass::kForward, MemoryFormat::Contiguous, kWide1In, kWide1W)->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv1_fwd_nhwc, ConvPass::kForward, MemoryFormat::ChannelsLast, kWide1In, kWide1W)->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv1_bwdw_nchw, ConvPass::kBackwardWeights, MemoryFormat::Contiguous, kWide1In, kWide1W)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv1_bwdw_nhwc, ConvPass::kBackwardWeights, MemoryFormat::ChannelsLast, kWide1In,
                  kWide1W)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_fwd_nchw, ConvPass::kForward, MemoryFormat::Contiguous, kWide2In, kWide2W)->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_fwd_nhwc, ConvPass::kForward, MemoryFormat::ChannelsLast, kWide2In, kWide2W)->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_bwdd_nchw, ConvPass::kBackwardData, MemoryFormat::Contiguous, kWide2In, kWide2W)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_bwdd_nhwc, ConvPass::kBackwardData, MemoryFormat::ChannelsLast, kWide2In, kWide2W)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_bwdw_nchw, ConvPass::kBackwardWeights, MemoryFormat::Contiguous, kWide2In, kWide2W)
    ->Arg(2);
BENCHMARK_CAPTURE(BM_WideConv, conv2_bwdw_nhwc, ConvPass::kBackwardWeights, MemoryFormat::ChannelsLast, kWide2In,
                  kWide2W)
    ->Arg(2);

}  // namespace
}  // namespace tg::ops
