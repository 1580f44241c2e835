// tapegrad/bench/onnx_model_throughput.cc: inference speed of an ONNX model imported with
// io::load_onnx (eval mode, no gradients): batch 1 latency and batch 64 throughput on one input
// of the given per-sample shape (zeros for float inputs, token 1 for int64). bench/ort_throughput.js
// is the same in ONNX Runtime; bench/compare_onnx_runtime.sh runs both.
//   bazel run -c opt //bench:onnx_model_throughput -- --model=m.onnx --sample_shape=1,28,28 --threads=2
// Prints (one figure per line):
//   latency_ms X          median over --latency_runs single-sample forwards
//   throughput_per_s X    samples per second, median of --throughput_runs forwards of batch 64
#include <algorithm>
#include <functional>
#include <chrono>
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "autograd/tapegrad.h"
#include "io/onnx_import.h"
#include "ops/parallel.h"

ABSL_FLAG(std::string, model, "", "the .onnx file");
ABSL_FLAG(std::string, sample_shape, "", "one sample's input shape without the batch, e.g. 1,28,28");
ABSL_FLAG(int, threads, 2, "threads");
ABSL_FLAG(int, latency_runs, 50, "batch-1 forwards timed");
ABSL_FLAG(int, throughput_runs, 5, "batch-64 forwards timed");
ABSL_FLAG(int, batch, 64, "the throughput batch");
ABSL_FLAG(bool, channels_last, false, "4-d inputs in channels-last memory format (Note [Channels last])");

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(const std::function<void()>& f, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  tg::set_num_threads(absl::GetFlag(FLAGS_threads));
  auto model = tg::io::load_onnx(absl::GetFlag(FLAGS_model));
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  tg::io::OnnxModule& m = *model->module;
  m.eval();
  tg::Shape sample;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_sample_shape), ',', absl::SkipEmpty())) {
    int64_t d;
    if (!absl::SimpleAtoi(part, &d)) return 2;
    sample.push_back(d);
  }
  const tg::DType dtype = m.inputs().at(0).dtype;
  auto input = [&](int64_t batch) {
    tg::Shape s = {batch};
    s.insert(s.end(), sample.begin(), sample.end());
    const tg::Tensor x = dtype == tg::kInt64 ? tg::ones(s, tg::kInt64) : tg::zeros(s, dtype);
    return absl::GetFlag(FLAGS_channels_last) ? x.contiguous(tg::MemoryFormat::ChannelsLast) : x;
  };
  tg::InferenceMode inference;
  const tg::Tensor one = input(1), many = input(absl::GetFlag(FLAGS_batch));
  for (int i = 0; i < 5; ++i) m.forward(one);
  m.forward(many);
  const double latency = median_ms([&] { m.forward(one); }, absl::GetFlag(FLAGS_latency_runs));
  const double batch_ms = median_ms([&] { m.forward(many); }, absl::GetFlag(FLAGS_throughput_runs));
  std::printf("latency_ms %.3f\nthroughput_per_s %.1f\n", latency, absl::GetFlag(FLAGS_batch) * 1000.0 / batch_ms);
  return 0;
}
