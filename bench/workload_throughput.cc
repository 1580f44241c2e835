// tapegrad/bench/workload_throughput.cc: training, inference and generation speed of the
// workloads in bench/workloads.h (bench/pytorch_workload_throughput.py is the same in PyTorch;
// bench/compare_workloads.sh runs both).
//   bazel run -c opt //bench:workload_throughput -- --workload=char_gpt --steps=20 --threads=2
// After 10 warm-up steps of the recipe it prints exactly (one figure per line, name then value):
//   train_tokens_per_s X (char_gpt, lstm_lm) or train_images_per_s X (resnet_fmnist)
//   loss_after_N_steps X        the mean training loss over the last 10 steps (N = warm-up + steps)
//   infer_tokens_per_s X / infer_images_per_s X   forward only, in inference mode, eval()
//   infer_optimized_images_per_s X   resnet_fmnist: the same through io::optimize_for_inference
//   generate_tokens_per_s X     char_gpt: greedy decoding of --generate tokens, batch 1, KV cache
//   generate_naive_tokens_per_s X  the same without the cache (the whole window every token)
// Recipes: char_gpt batch 32 x 128, AdamW 3e-4 wd 0.1; lstm_lm batch 32 x 64, Adam 2e-3;
// resnet_fmnist batch 128, SGD 0.05 momentum 0.9 nesterov wd 5e-4 (inference: the 10,000 test
// images in batches of 128).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <numeric>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "bench/workloads.h"
#include "io/data_loader.h"
#include "io/mnist.h"
#include "io/optimize_for_inference.h"
#include "io/text_corpus.h"
#include "optim/optim.h"

ABSL_FLAG(bool, channels_last, false, "resnet_fmnist: images in channels-last memory format (Note [Channels last])");
ABSL_FLAG(std::string, workload, "char_gpt", "char_gpt, lstm_lm or resnet_fmnist");
ABSL_FLAG(int, steps, 20, "timed training steps (after 10 warm-up steps)");
ABSL_FLAG(std::optional<int>, threads, std::nullopt, "fixed thread count (default: adaptive)");
ABSL_FLAG(std::string, corpus_dir, "/usr/share/games/fortunes", "the text corpus (Debian's fortunes)");
ABSL_FLAG(std::string, fmnist_dir, "/usr/share/datasets/fashion-mnist", "Fashion-MNIST IDX files");
ABSL_FLAG(int, generate, 200, "char_gpt: tokens to generate");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization and batch sampling");

namespace {

using namespace tg;
using Clock = std::chrono::steady_clock;

constexpr int kWarmup = 10;
constexpr double kFmnistMean = 0.2860, kFmnistStd = 0.3530;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs kWarmup + steps training steps (each returns its loss); prints the rate of the timed ones
// in `unit` per second (`per_step` units a step) and the mean loss of the last 10.
void train(const std::function<double()>& step, int steps, double per_step, const char* figure) {
  std::deque<double> last;
  Clock::time_point start;
  for (int i = 0; i < kWarmup + steps; ++i) {
    if (i == kWarmup) start = Clock::now();
    last.push_back(step());
    if (last.size() > 10) last.pop_front();
  }
  const double rate = steps * per_step / seconds_since(start);
  std::printf("%s %.1f\nloss_after_%d_steps %.4f\n", figure, rate, kWarmup + steps,
              std::accumulate(last.begin(), last.end(), 0.0) / static_cast<double>(last.size()));
}

// The rate of `run` (which processes `units` each call) over `calls` calls after one warm-up call.
double rate_of(const std::function<void()>& run, int calls, double units) {
  run();
  const auto start = Clock::now();
  for (int i = 0; i < calls; ++i) run();
  return calls * units / seconds_since(start);
}

double step_on(nn::Module& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& y) {
  optimizer.zero_grad();
  const Tensor logits = model(x);
  const Tensor loss = cross_entropy(reshape(logits, {-1, logits.size(-1)}), reshape(y, {-1}));
  loss.backward();
  optimizer.step();
  return loss.item();
}

void run_language_model(bool gpt, int steps) {
  auto loaded = io::load_text_corpus(absl::GetFlag(FLAGS_corpus_dir), {.validation_fraction = 0, .min_bytes = 1000});
  TG_CHECK(loaded.ok(), loaded.status().message(), " (is Debian's fortunes installed?)");
  const std::vector<int64_t>& tokens = loaded->train;
  const int64_t vocab = loaded->vocab_size(), batch = 32, context = gpt ? 128 : 64;
  std::shared_ptr<nn::Module> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  if (gpt) {
    model = std::make_shared<bench::CharGpt>(bench::CharGptOptions{.vocab_size = vocab});
    optimizer = std::make_unique<optim::AdamW>(model->parameters(), 3e-4, optim::AdamOptions{}, 0.1);
  } else {
    model = std::make_shared<bench::LstmLm>(vocab);
    optimizer = std::make_unique<optim::Adam>(model->parameters(), 2e-3);
  }
  train(
      [&] {
        const io::Batch b = io::random_windows(tokens, batch, context);
        return step_on(*model, *optimizer, b.inputs, b.targets);
      },
      steps, static_cast<double>(batch * context), "train_tokens_per_s");

  model->eval();
  const Tensor x = io::random_windows(tokens, batch, context).inputs;
  {
    InferenceMode inference;
    std::printf("infer_tokens_per_s %.1f\n", rate_of([&] { (*model)(x); }, 5, static_cast<double>(batch * context)));
  }
  if (!gpt) return;
  auto& gpt_model = static_cast<bench::CharGpt&>(*model);
  const int n = absl::GetFlag(FLAGS_generate);
  const std::vector<int64_t> prompt(tokens.begin(), tokens.begin() + 16);
  std::vector<int64_t> cached, naive;
  std::printf("generate_tokens_per_s %.1f\n", rate_of([&] { cached = gpt_model.generate(prompt, n, true); }, 1, n));
  std::printf("generate_naive_tokens_per_s %.1f\n", rate_of([&] { naive = gpt_model.generate(prompt, n, false); }, 1, n));
  // Until the window fills, the cache must give the naive loop's tokens exactly (greedy).
  const size_t exact = std::min<size_t>(n, gpt_model.options.context - prompt.size());
  size_t same = 0;
  while (same < exact && cached[same] == naive[same]) ++same;
  TG_CHECK(same == exact, "char_gpt: KV-cache generation departs from the naive loop at token ", same, " of ", exact);
}

void run_resnet(int steps) {
  const std::string dir = absl::GetFlag(FLAGS_fmnist_dir);
  auto train_set = io::load_mnist(dir, true);
  auto test_set = io::load_mnist(dir, false);
  if (!train_set.ok() || !test_set.ok())
    throw Error(std::string((train_set.ok() ? test_set.status() : train_set.status()).message()));
  auto model = bench::make_resnet8();
  optim::SGD optimizer(model->parameters(), 0.05, optim::SGDOptions{.momentum = 0.9, .nesterov = true}, 5e-4);
  const io::Transform norm = io::normalize(kFmnistMean, kFmnistStd);
  const int64_t batch = 128;
  const MemoryFormat format = absl::GetFlag(FLAGS_channels_last) ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  const auto layout = [format](const Tensor& images) { return images.contiguous(format); };
  io::DataLoader loader(io::TensorDataset(train_set->images, train_set->labels),
                        {.batch_size = batch, .seed = absl::GetFlag(FLAGS_seed)}, norm);
  int64_t epoch_index = 0;
  auto epoch = loader.epoch(epoch_index);
  train(
      [&] {
        io::Batch b;
        while (!epoch->next(&b)) epoch = loader.epoch(++epoch_index);
        return step_on(*model, optimizer, layout(b.inputs), b.targets);
      },
      steps, static_cast<double>(batch), "train_images_per_s");

  model->eval();
  io::DataLoader test_loader(io::TensorDataset(test_set->images, test_set->labels),
                             {.batch_size = 128, .shuffle = false}, norm);
  std::vector<Tensor> batches;
  auto test_epoch = test_loader.epoch(0);
  for (io::Batch b; test_epoch->next(&b);) batches.push_back(layout(b.inputs));
  // The frozen, fused copy (io::optimize_for_inference), against torch.jit.optimize_for_inference.
  auto fast = io::optimize_for_inference(*model, batches.front());
  if (!fast.ok()) throw Error(std::string(fast.status().message()));
  InferenceMode inference;
  const double images = static_cast<double>(test_set->images.size(0));
  std::printf("infer_images_per_s %.1f\n", rate_of([&] { for (const Tensor& b : batches) (*model)(b); }, 1, images));
  std::printf("infer_optimized_images_per_s %.1f\n",
              rate_of([&] { for (const Tensor& b : batches) (*fast)->forward(b); }, 1, images));
}

int run() {
  const std::string workload = absl::GetFlag(FLAGS_workload);
  const int steps = absl::GetFlag(FLAGS_steps);
  TG_CHECK(steps > 0, "--steps must be positive, got ", steps);
  if (auto threads = absl::GetFlag(FLAGS_threads)) set_num_threads(*threads);
  manual_seed(absl::GetFlag(FLAGS_seed));
  if (workload == "char_gpt" || workload == "lstm_lm") {
    run_language_model(workload == "char_gpt", steps);
  } else if (workload == "resnet_fmnist") {
    run_resnet(steps);
  } else {
    throw Error("--workload: char_gpt, lstm_lm or resnet_fmnist, got '" + workload + "'");
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak_rss_mb %.1f\n", usage.ru_maxrss / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("training, inference and generation speed of the char_gpt, lstm_lm and resnet_fmnist workloads");
  if (absl::ParseCommandLine(argc, argv).size() > 1) {
    std::fprintf(stderr, "workload_throughput: takes flags only (--help lists them)\n");
    return 2;
  }
  try {
    return run();
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "workload_throughput: %s\n", e.what());
    return 2;
  }
}
