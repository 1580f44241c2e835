// tapegrad/examples/mnist_cnn.cc: trains a tutorial CNN on MNIST end to end.
//   bazel run -c opt //examples:mnist_cnn -- --arch=cnn_small --epochs=3
// After each epoch it prints "epoch E train_loss X test_accuracy Y seconds Z", at the end
// "test_accuracy Y". --help lists the flags. main() reads like the loop it teaches: set up,
// then per epoch train / evaluate / save.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "autograd/tapegrad.h"
#include "distributed/data_parallel.h"
#include "examples/epoch_log.h"
#include "examples/mnist_models.h"
#include "examples/training_report.h"
#include "io/checkpoint.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, arch, "cnn_small", "cnn_small, cnn_wide, cnn_fc3 or lenet5");
ABSL_FLAG(std::string, data_dir, "data/mnist", "MNIST IDX files (tools/fetch_mnist.sh fetches them)");
ABSL_FLAG(int, epochs, 1, "epochs to train");
ABSL_FLAG(std::optional<int64_t>, batch_size, std::nullopt, "global batch size (default: the architecture's recipe, 50 or 64)");
ABSL_FLAG(std::optional<double>, lr, std::nullopt, "learning rate (default: the recipe's: adam 1e-3, sgd 1e-3 / 0.05 for lenet5)");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, shuffling, dropout and augmentation");
ABSL_FLAG(std::optional<int>, threads, std::nullopt,
          "fixed thread count (default: all cores, fewer while other processes use some, Note [Sharing the cores]; "
          "with --distributed the cores split among the ranks)");
ABSL_FLAG(bool, deterministic, false, "bit-identical results for any --threads (thread-count independent GEMM tiling)");
ABSL_FLAG(std::string, schedule, "none", "none, onecycle (per batch), cosine (per batch) or step (x0.5 per epoch)");
ABSL_FLAG(double, weight_decay, 0.0, "weight decay (AdamW for adam recipes)");
ABSL_FLAG(bool, augment, false, "random shifts of up to 2 pixels");
ABSL_FLAG(std::optional<bool>, channels_last, std::nullopt,
          "images (so activations) in channels-last memory format, faster convolutions and pooling (default: the "
          "recipe's: on for cnn_small, cnn_wide and cnn_fc3, off for lenet5)");
ABSL_FLAG(double, label_smoothing, 0.0, "label smoothing of the cross-entropy");
ABSL_FLAG(bool, distributed, false,
          "data-parallel over MPI: run under mpirun -np R; --batch_size is the global batch, split over the R ranks, "
          "so results match a single process up to float rounding; rank 0 prints and writes files");
ABSL_FLAG(bool, overlap, true,
          "with --distributed: all-reduce gradient buckets during backward (false: all after backward)");
ABSL_FLAG(std::string, gradient_compression, "none",
          "with --distributed: none, or bf16 (gradients all-reduced as bfloat16: half the bytes)");
ABSL_FLAG(bool, time_communication, false,
          "with --distributed, ranks on one machine's clock (distributed/two_hosts.sh): split the gradient "
          "synchronization time into waiting for the slower rank and communication not hidden by backward");
ABSL_FLAG(bool, detect_anomaly, false, "stop at the first NaN/Inf in forward or backward, naming the op (slower)");
ABSL_FLAG(std::optional<int64_t>, train_limit, std::nullopt, "use only the first N training images (quick runs, tests)");
ABSL_FLAG(std::optional<int64_t>, test_limit, std::nullopt, "evaluate on only the first N test images");
ABSL_FLAG(std::string, save, "", "the trained model (traced graph + weights; tapegrad predict/inspect read it)");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

distributed::ProcessGroup* g_group = nullptr;  // set by --distributed

// Random shifts of up to `max_shift` pixels, zero (background) filled, on [N, 1, H, W] in [0, 1].
io::Transform random_shift(int max_shift, uint64_t seed) {
  auto gen = std::make_shared<ops::Generator>(seed ^ 0x5eedULL);
  return [gen, max_shift](io::Batch b) {
    ops::Array x = b.inputs.data().contiguous();
    ops::Array out = ops::Array::zeros(x.shape(), x.dtype());
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    const float* src = x.data<float>();
    float* dst = out.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const int dy = static_cast<int>(gen->next_u64() % (2 * max_shift + 1)) - max_shift;
      const int dx = static_cast<int>(gen->next_u64() % (2 * max_shift + 1)) - max_shift;
      for (int64_t y = 0; y < h; ++y) {
        const int64_t sy = y - dy;
        if (sy < 0 || sy >= h) continue;
        for (int64_t xx = 0; xx < w; ++xx) {
          const int64_t sx = xx - dx;
          if (sx >= 0 && sx < w) dst[(i * h + y) * w + xx] = src[(i * h + sy) * w + sx];
        }
      }
    }
    b.inputs = Tensor(out);
    return b;
  };
}

// Everything a training run holds, built once from the flags by set_up().
struct Run {
  const examples::Architecture* arch = nullptr;
  int epochs = 1;
  int64_t batch_size = 0;
  double lr = 0;
  uint64_t seed = 0;
  distributed::ProcessGroup* group = nullptr;  // null unless --distributed
  int ranks = 1;
  bool main_rank = true;  // rank 0 prints and writes files
  io::Mnist train, test;
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;
  bool scheduler_per_batch = true;
  std::unique_ptr<distributed::DistributedDataParallel> ddp;
  std::optional<io::DataLoader> train_loader, test_loader;
  int64_t total_steps = 0, step = 0;
  std::optional<examples::EpochLog> log;  // the completed epochs' metrics; checkpoints, CSV, plot
  io::TrainingState state() const {
    return {model.get(), optimizer.get(), scheduler.get(), 0, step, {{"arch", arch->name}}};
  }
};

std::unique_ptr<optim::LRScheduler> make_scheduler(const std::string& name, Run& r) {
  if (name == "onecycle") return std::make_unique<optim::OneCycleLR>(*r.optimizer, r.lr, r.total_steps);
  if (name == "cosine") return std::make_unique<optim::CosineAnnealingLR>(*r.optimizer, r.total_steps);
  if (name == "step") {
    r.scheduler_per_batch = false;
    return std::make_unique<optim::StepLR>(*r.optimizer, 1, 0.5);
  }
  TG_CHECK(name == "none", "unknown --schedule '", name, "' (none, onecycle, cosine, step)");
  return nullptr;
}

// Flags, threads, data, model, optimizer, loaders, scheduler. Throws tg::Error on a bad flag;
// returns nullopt (after saying why) when MNIST is missing.
std::optional<Run> set_up() {
  Run r;
  r.arch = &examples::find_architecture(absl::GetFlag(FLAGS_arch));
  r.epochs = absl::GetFlag(FLAGS_epochs);
  r.batch_size = absl::GetFlag(FLAGS_batch_size).value_or(r.arch->recipe.batch_size);
  r.lr = absl::GetFlag(FLAGS_lr).value_or(r.arch->recipe.lr);
  r.seed = absl::GetFlag(FLAGS_seed);
  TG_CHECK(r.epochs > 0 && r.batch_size > 0 && r.lr > 0, "--epochs, --batch_size and --lr must be positive");
  // Data-parallel: every rank runs this program on its shard of each global batch.
  r.group = absl::GetFlag(FLAGS_distributed) ? &distributed::ProcessGroup::world() : nullptr;
  g_group = r.group;
  r.ranks = r.group ? r.group->size() : 1;
  r.main_rank = r.group == nullptr || r.group->rank() == 0;
  // Rank 0 reports; the others print nothing to stdout (their errors still reach stderr).
  if (!r.main_rank && std::freopen("/dev/null", "w", stdout) == nullptr) throw Error("cannot silence stdout");
  TG_CHECK(r.batch_size % r.ranks == 0, "--batch_size=", r.batch_size, " must be divisible by the ", r.ranks, " ranks");
  if (auto threads = absl::GetFlag(FLAGS_threads)) {
    set_num_threads(*threads);
  } else if (r.group) {
    set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / r.group->local_size()));
  }
  set_deterministic(absl::GetFlag(FLAGS_deterministic));

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  auto train = io::load_mnist(data_dir, true);
  auto test = io::load_mnist(data_dir, false);
  for (const auto* s : {&train.status(), &test.status()}) {
    if (!s->ok()) {
      std::fprintf(stderr, "mnist_cnn: %s\n(run tools/fetch_mnist.sh to fetch MNIST into data/mnist)\n",
                   std::string(s->message()).c_str());
      return std::nullopt;
    }
  }
  r.train = *train;
  r.test = *test;
  if (auto n = absl::GetFlag(FLAGS_train_limit)) r.train = io::first_examples(r.train, *n);
  if (auto n = absl::GetFlag(FLAGS_test_limit)) r.test = io::first_examples(r.test, *n);

  manual_seed(r.seed);
  r.model = r.arch->build();
  r.optimizer = examples::make_optimizer(r.arch->recipe, r.model->parameters(), r.lr, absl::GetFlag(FLAGS_weight_decay));
  const io::Transform norm =
      io::compose({io::normalize(io::kMnistMean, io::kMnistStd),
                   io::to_memory_format(r.arch->recipe.image_format(absl::GetFlag(FLAGS_channels_last)))});
  io::Transform train_transform = norm;
  if (absl::GetFlag(FLAGS_augment)) {
    auto shift = random_shift(2, r.seed);
    train_transform = [shift, norm](io::Batch b) { return norm(shift(std::move(b))); };
  }
  io::DataLoaderOptions train_options{.batch_size = r.batch_size / r.ranks, .shuffle = true, .seed = r.seed};
  io::DataLoaderOptions test_options{.batch_size = 1000, .shuffle = false};
  if (r.group) {
    train_options = distributed::shard_for_rank(train_options, *r.group);
    test_options = distributed::shard_for_rank(test_options, *r.group);
    const std::string compression_flag = absl::GetFlag(FLAGS_gradient_compression);
    TG_CHECK(compression_flag == "none" || compression_flag == "bf16", "--gradient_compression=", compression_flag,
             ": expected none or bf16");
    const auto compression = compression_flag == "bf16" ? distributed::GradientCompression::kBFloat16
                                                        : distributed::GradientCompression::kNone;
    // Every rank starts from rank 0's weights; ranks whose model or settings differ are refused.
    const std::string config = absl::StrCat(
        "arch=", r.arch->name, " batch_size=", r.batch_size, " lr=", r.lr, " seed=", r.seed,
        " epochs=", r.epochs, " schedule=", absl::GetFlag(FLAGS_schedule), " weight_decay=",
        absl::GetFlag(FLAGS_weight_decay), " augment=", absl::GetFlag(FLAGS_augment), " label_smoothing=",
        absl::GetFlag(FLAGS_label_smoothing), " deterministic=", absl::GetFlag(FLAGS_deterministic),
        " train_images=", r.train.images.size(0), " gradient_compression=", compression_flag);
    r.ddp = std::make_unique<distributed::DistributedDataParallel>(r.model, *r.group,
                                                                   distributed::DataParallelOptions{
                                                                       .config = config,
                                                                       .time_communication = absl::GetFlag(FLAGS_time_communication),
                                                                       .compression = compression});
  }
  r.train_loader.emplace(io::TensorDataset(r.train.images, r.train.labels), train_options, train_transform);
  r.test_loader.emplace(io::TensorDataset(r.test.images, r.test.labels), test_options, norm);
  r.total_steps = r.train_loader->num_batches() * r.epochs;
  r.scheduler = make_scheduler(absl::GetFlag(FLAGS_schedule), r);
  r.log.emplace("mnist_cnn", "MNIST " + r.arch->name);
  return r;
}

// --resume (examples/epoch_log.h): restores the training state and the metrics of the epochs
// done; returns the first epoch still to train (1 without --resume).
int resume(Run& r) {
  const int first_epoch = r.log->resume(r.state());
  r.step = r.log->resumed_step();
  return first_epoch;
}

// One pass over the training set; returns the mean training loss over all ranks' examples.
double train_one_epoch(Run& r, int epoch) {
  const double label_smoothing = absl::GetFlag(FLAGS_label_smoothing);
  examples::Progress progress(epoch, r.train_loader->num_batches(), r.batch_size);
  double loss_sum = 0, examples = 0;  // this rank's example-weighted loss
  int64_t batches = 0;
  auto batches_of_epoch = r.train_loader->epoch(epoch - 1);
  for (io::Batch b; batches_of_epoch->next(&b);) {
    r.optimizer->zero_grad();
    const int64_t n = b.targets.numel();  // 0 only for a rank's empty part of a ragged last batch
    double l = 0;
    if (r.ddp && absl::GetFlag(FLAGS_overlap)) r.ddp->prepare_for_backward(n);
    if (n > 0) {
      Tensor loss = cross_entropy((*r.model)(b.inputs), b.targets, Reduction::kMean, label_smoothing);
      loss.backward();
      l = loss.item();
    }
    if (r.ddp) r.ddp->synchronize_gradients(n);
    r.optimizer->step();
    ++r.step;
    if (r.scheduler && r.scheduler_per_batch && r.step < r.total_steps) r.scheduler->step();
    loss_sum += l * n;
    examples += n;
    progress.update(batches++, l);
  }
  if (r.scheduler && !r.scheduler_per_batch) r.scheduler->step();
  progress.finish();
  std::vector<double> totals{loss_sum, examples};
  if (r.group) totals = r.group->sum(totals);
  return totals[0] / totals[1];
}

// Test accuracy over all ranks' shards; with --distributed also checks the ranks agree.
double evaluate(Run& r) {
  const io::ClassificationCounts counts = io::count_correct(*r.model, *r.test_loader);
  std::vector<double> totals{double(counts.correct), double(counts.total)};
  if (r.group) {
    totals = r.group->sum(totals);
    TG_CHECK(distributed::replicas_identical(*r.model, *r.group), "--distributed: the ranks' weights diverged");
  }
  return totals[1] > 0 ? totals[0] / totals[1] : 0.0;
}

// --save: the trained model in eval mode, with what a reader needs to feed it.
void save_model(const Run& r) {
  r.model->eval();
  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.4f", r.log->metrics().back().quality);
  const Tensor example = Tensor(r.test.images.data().narrow(0, 0, 1));
  const std::string path = absl::GetFlag(FLAGS_save);
  const absl::Status saved = io::save_model(
      *r.model, example, path,
      {{"architecture", r.arch->name}, {"dataset", "mnist"}, {"epochs", std::to_string(r.epochs)},
       {"seed", std::to_string(r.seed)}, {"test_accuracy", accuracy},
       {"input_mean", std::to_string(io::kMnistMean)}, {"input_std", std::to_string(io::kMnistStd)}});
  TG_CHECK(saved.ok(), "saving the model failed: ", saved.message());
  std::printf("saved %s\n", path.c_str());
}

int train() {
  std::optional<Run> run = set_up();
  if (!run) return 2;
  Run& r = *run;
  std::printf("arch %s params %lld optimizer %s lr %g batch_size %lld epochs %d threads %d train_images %lld%s\n",
              r.arch->name.c_str(), static_cast<long long>(r.model->num_parameters()), r.arch->recipe.optimizer.c_str(),
              r.lr, static_cast<long long>(r.batch_size), r.epochs, get_num_threads(),
              static_cast<long long>(r.train.images.size(0)), r.group ? (" ranks " + std::to_string(r.ranks)).c_str() : "");
  const int first_epoch = resume(r);
  std::optional<autograd::DetectAnomalyGuard> detect_anomaly;
  if (absl::GetFlag(FLAGS_detect_anomaly)) detect_anomaly.emplace();

  for (int epoch = first_epoch; epoch <= r.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const double train_loss = train_one_epoch(r, epoch);
    const double accuracy = evaluate(r);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.1f\n", epoch, train_loss, accuracy, seconds);
    if (r.group) {
      std::printf("epoch %d weights bit-identical on all %d ranks; gradient synchronization %.3f s so far", epoch,
                  r.ranks, r.ddp->sync_seconds());
      if (absl::GetFlag(FLAGS_time_communication)) {
        std::printf(" (waiting for the slower rank %.3f s, for communication %.3f s)", r.ddp->straggler_seconds(),
                    r.ddp->communication_seconds());
      }
      std::printf("\n");
    }
    std::fflush(stdout);
    r.log->record({epoch, train_loss, accuracy, seconds}, r.state(), /*write_files=*/r.main_rank);
  }

  if (r.log->metrics().empty()) {
    std::printf("nothing to train: the checkpoint already covers %d epochs\n", r.epochs);
    return 0;
  }
  std::printf("test_accuracy %.4f\n", r.log->metrics().back().quality);
  if (!absl::GetFlag(FLAGS_save).empty() && r.main_rank) save_model(r);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("trains a tutorial CNN on MNIST: mnist_cnn [--flag=value ...]");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  int code = 0;
  if (positional.size() > 1) {
    std::fprintf(stderr, "mnist_cnn: unexpected argument '%s' (flags are --name=value; --help lists them)\n",
                 positional[1]);
    return 2;
  }
  try {
    code = train();
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "mnist_cnn: %s\n", e.what());
    code = 2;
  }
  // A failing rank takes the whole MPI job down instead of leaving the others waiting.
  if (code != 0 && g_group != nullptr) g_group->abort(code);
  return code;
}
