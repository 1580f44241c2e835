// tapegrad/bench/layer_efficiency.cc: how close the conv and linear layers of cnn_wide come to the
// machine's matrix-multiply limit.
//   bazel run -c opt //bench:layer_efficiency -- --threads=2
// Prints the sgemm rate of a 2048x2048x2048 product (OpenBLAS, the library behind tapegrad's
// GEMMs), then for each layer of cnn_wide at batch 50 the GFLOP/s of forward, backward-data and
// backward-weights (best of 20 after warm-up) and that rate as a percentage of sgemm:
//   sgemm_2048_gflops X
//   conv2 forward_gflops X (Y% of sgemm) ...
// and the rate of all of them together (total FLOPs over total time); then, end to end, the
// training steps of cnn_wide and cnn_small with their recipes (examples/mnist_models.h) on one
// fixed batch, their conv and linear FLOPs over the steps' wall time, against the same sgemm, with
// the images (so every activation) in NCHW, then again in channels last:
//   end_to_end cnn_wide X images/s, Y GFLOP/s, Z% of sgemm
//   end_to_end cnn_wide channels_last X images/s, ...
// (issue 15's target is against this figure, taken in the same run as the reference).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "bench/best_seconds.h"
#include "examples/mnist_models.h"
#include "ops/blas.h"
#include "ops/conv.h"

ABSL_FLAG(std::optional<int>, threads, std::nullopt, "fixed thread count (default: adaptive)");

namespace {

using namespace tg;
using Clock = std::chrono::steady_clock;

// Best wall time of `fn` over `runs` runs after 3 warm-up runs.
double best_seconds(const std::function<void()>& fn, int runs = 20) { return bench::best_seconds(fn, runs); }

struct ConvLayer {
  const char* name;
  Shape input, weight;
  int64_t pad;
};

int run() {
  if (auto threads = absl::GetFlag(FLAGS_threads)) set_num_threads(*threads);
  const int64_t n = 2048;
  const ops::Array a = ops::Array::full({n, n}, 1.0, kFloat32), b = ops::Array::full({n, n}, 1.0, kFloat32);
  ops::Array c = ops::Array::empty({n, n}, kFloat32);
  const double sgemm = 2.0 * n * n * n / best_seconds([&] {
    ops::gemm(false, false, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n, 0.0f, c.data<float>(), n);
  }, 5) / 1e9;
  std::printf("sgemm_2048_gflops %.1f (threads %d)\n", sgemm, get_num_threads());
  double all_flops = 0, all_seconds = 0;
  auto report = [&](const std::string& what, double flops, double seconds) {
    all_flops += flops;
    all_seconds += seconds;
    const double gflops = flops / seconds / 1e9;
    std::printf("%-28s %8.1f GFLOP/s  %5.1f%% of sgemm\n", what.c_str(), gflops, 100 * gflops / sgemm);
  };

  NoGradGuard no_grad;
  const int64_t batch = 50;  // cnn_wide's recipe
  for (const ConvLayer& l : {ConvLayer{"conv1", {batch, 1, 28, 28}, {32, 1, 5, 5}, 2},
                             ConvLayer{"conv2", {batch, 32, 14, 14}, {64, 32, 5, 5}, 2}}) {
    const Tensor x = randn(l.input), w = randn(l.weight), bias = randn({l.weight[0]});
    const Tensor y = conv2d(x, w, bias, 1, l.pad);
    const Tensor gy = randn(y.shape());
    const double flops = 2.0 * y.numel() * l.weight[1] * l.weight[2] * l.weight[3];
    const std::string name = l.name;
    report(name + " forward", flops, best_seconds([&] { conv2d(x, w, bias, 1, l.pad); }));
    if (l.input[1] > 1) {  // the first layer's input gradient is never needed
      report(name + " backward_data", flops,
             best_seconds([&] { conv2d_backward_input(gy, w, l.input, 1, l.pad, 1, 1); }));
    }
    report(name + " backward_weights", flops,
           best_seconds([&] { conv2d_backward_weight(x, gy, l.weight, 1, l.pad, 1, 1); }));
  }
  for (const auto& [name, in, out] : {std::tuple<const char*, int64_t, int64_t>{"fc1", 64 * 7 * 7, 1024},
                                      std::tuple<const char*, int64_t, int64_t>{"fc2", 1024, 10}}) {
    const Tensor x = randn({batch, in}), w = randn({out, in}), gy = randn({batch, out});
    const double flops = 2.0 * batch * in * out;
    report(std::string(name) + " forward", flops, best_seconds([&] { linear(x, w); }));
    report(std::string(name) + " backward_data", flops, best_seconds([&] { matmul(gy, w); }));
    report(std::string(name) + " backward_weights", flops, best_seconds([&] { matmul(gy.t(), x); }));
  }
  // A training step's conv and linear work as a whole: the layers' FLOPs over their summed times.
  const double all = all_flops / all_seconds / 1e9;
  std::printf("%-28s %8.1f GFLOP/s  %5.1f%% of sgemm\n", "all layers", all, 100 * all / sgemm);

  // End to end. Training FLOPs per image: forward, input gradient (not for a first layer, whose
  // input needs none) and weight gradient of each conv and linear layer. cnn_wide's are those of
  // the layers measured above, each pass counted once; cnn_small's its two 5x5 'same'
  // convolutions and its linear layer.
  struct EndToEnd {
    const char* arch;
    double flops_per_image;
    MemoryFormat format = MemoryFormat::Contiguous;  // of the images, so of every activation
  };
  const auto conv = [](int64_t cin, int64_t cout, int64_t side, bool first) {
    return 2.0 * cout * side * side * cin * 25 * (first ? 2 : 3);
  };
  AutoGradMode recording(true);
  const double wide_flops = all_flops / static_cast<double>(batch);
  const double small_flops = conv(1, 16, 28, true) + conv(16, 32, 14, false) + 2.0 * 32 * 7 * 7 * 10 * 3;
  for (const EndToEnd& e : {EndToEnd{"cnn_wide", wide_flops}, EndToEnd{"cnn_small", small_flops},
                            EndToEnd{"cnn_wide", wide_flops, MemoryFormat::ChannelsLast},
                            EndToEnd{"cnn_small", small_flops, MemoryFormat::ChannelsLast}}) {
    const examples::Architecture& arch = examples::find_architecture(e.arch);
    auto model = arch.build();
    auto optimizer = examples::make_optimizer(arch.recipe, model->parameters(), arch.recipe.lr);
    const int64_t images = arch.recipe.batch_size;
    const Tensor x = randn({images, 1, 28, 28}).contiguous(e.format), y = randint(0, 10, {images});
    const auto step = [&] {
      optimizer->zero_grad();
      cross_entropy((*model)(x), y).backward();
      optimizer->step();
    };
    for (int i = 0; i < 10; ++i) step();
    const int steps = 100;
    const auto t = Clock::now();
    for (int i = 0; i < steps; ++i) step();
    const double images_per_s = steps * images / std::chrono::duration<double>(Clock::now() - t).count();
    const double gflops = images_per_s * e.flops_per_image / 1e9;
    const std::string name = std::string(e.arch) + (e.format == MemoryFormat::ChannelsLast ? " channels_last" : "");
    std::printf("end_to_end %-24s %8.1f images/s, %.2f MFLOP/image, %6.1f GFLOP/s  %5.1f%% of sgemm\n", name.c_str(),
                images_per_s, e.flops_per_image / 1e6, gflops, 100 * gflops / sgemm);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("how close cnn_wide's layers come to the machine's sgemm rate");
  if (absl::ParseCommandLine(argc, argv).size() > 1) {
    std::fprintf(stderr, "layer_efficiency: takes flags only (--help lists them)\n");
    return 2;
  }
  try {
    return run();
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "layer_efficiency: %s\n", e.what());
    return 2;
  }
}
