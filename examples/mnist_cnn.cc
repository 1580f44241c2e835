// tapegrad/examples/mnist_cnn.cc: trains a tutorial CNN on MNIST end to end.
//   bazel run -c opt //examples:mnist_cnn -- --arch=cnn_small --epochs=3
// After each epoch it prints "epoch E train_loss X test_accuracy Y seconds Z", at the end
// "test_accuracy Y". See --help for the flags.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <thread>

#include "autograd/tapegrad.h"
#include "distributed/data_parallel.h"
#include "examples/mnist_models.h"
#include "examples/training_report.h"
#include "io/checkpoint.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "nn/nn.h"
#include "optim/optim.h"

namespace {

using namespace tg;

distributed::ProcessGroup* g_group = nullptr;  // set by --distributed

const char* kUsage = R"(usage: mnist_cnn [--flag=value ...]
  --arch=NAME          cnn_small (default), cnn_wide, cnn_fc3, lenet5
  --data_dir=DIR       MNIST IDX files (default data/mnist; tools/fetch_mnist.sh fetches them)
  --epochs=N           default 1
  --batch_size=N       default: the architecture's recipe (50 or 64)
  --lr=X               default: the recipe's (adam 1e-3, sgd 1e-3 / 0.05 for lenet5)
  --seed=N             default 0: initialization, shuffling, dropout and augmentation
  --threads=N          fixed thread count; default: all cores, fewer while other processes use some
                       (Note [Sharing the cores]); with --distributed, the cores split among the ranks
  --deterministic      bit-identical results for any --threads (thread-count independent GEMM tiling)
  --schedule=NAME      none (default), onecycle (per batch), cosine (per batch), step (x0.5 per epoch)
  --weight_decay=X     default 0 (AdamW for adam recipes)
  --augment            random shifts of up to 2 pixels
  --label_smoothing=X  default 0
  --distributed        data-parallel over MPI: run under mpirun -np R; --batch_size is the global
                       batch, split over the R ranks, so results match a single process up to
                       float rounding; rank 0 prints and writes files
  --detect_anomaly     stop at the first NaN/Inf in forward or backward, naming the op (slower)
  --train_limit=N      use only the first N training images (quick runs, tests)
  --test_limit=N       evaluate on only the first N test images
  --checkpoint=PATH    training state written atomically after every epoch
  --resume             continue from --checkpoint (same flags; reproduces the uninterrupted run)
  --save=PATH          the trained model (traced graph + weights; tapegrad predict/inspect read it)
  --metrics_csv=PATH   per-epoch metrics
  --plot=PATH          SVG with the loss and accuracy curves
)";

struct Flags {
  std::map<std::string, std::string> values;
  bool has(const std::string& k) const { return values.count(k) > 0; }
  std::string str(const std::string& k, const std::string& d) const { return has(k) ? values.at(k) : d; }
  double num(const std::string& k, double d) const {
    if (!has(k)) return d;
    char* end = nullptr;
    const double v = std::strtod(values.at(k).c_str(), &end);
    if (end == values.at(k).c_str() || *end != '\0') throw Error("--" + k + ": not a number: '" + values.at(k) + "'");
    return v;
  }
};

Flags parse_flags(int argc, char** argv) {
  static const std::set<std::string> known = {"arch", "data_dir", "epochs", "batch_size", "lr", "seed", "threads",
                                               "schedule", "weight_decay", "augment", "label_smoothing", "train_limit",
                                               "metrics_csv", "plot", "save", "checkpoint", "resume", "detect_anomaly", "test_limit", "deterministic", "distributed",
                                               "help"};
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw Error("unexpected argument '" + a + "'\n" + kUsage);
    a = a.substr(2);
    const size_t eq = a.find('=');
    const std::string key = a.substr(0, eq), value = eq == std::string::npos ? "true" : a.substr(eq + 1);
    if (!known.count(key)) throw Error("unknown flag --" + key + "\n" + kUsage);
    f.values[key] = value;
  }
  return f;
}

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

int run(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  if (flags.has("help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  const examples::Architecture& arch = examples::find_architecture(flags.str("arch", "cnn_small"));
  const int epochs = static_cast<int>(flags.num("epochs", 1));
  const int64_t batch_size = static_cast<int64_t>(flags.num("batch_size", arch.recipe.batch_size));
  const double lr = flags.num("lr", arch.recipe.lr);
  const uint64_t seed = static_cast<uint64_t>(flags.num("seed", 0));
  const std::string schedule = flags.str("schedule", "none");
  TG_CHECK(epochs > 0 && batch_size > 0 && lr > 0, "--epochs, --batch_size and --lr must be positive");
  // Data-parallel: every rank runs this program on its shard of each global batch.
  distributed::ProcessGroup* group = flags.has("distributed") ? &distributed::ProcessGroup::world() : nullptr;
  g_group = group;
  const int ranks = group ? group->size() : 1;
  const bool main_rank = group == nullptr || group->rank() == 0;
  // Rank 0 reports; the others print nothing to stdout (their errors still reach stderr).
  if (!main_rank && std::freopen("/dev/null", "w", stdout) == nullptr) throw Error("cannot silence stdout");
  TG_CHECK(batch_size % ranks == 0, "--batch_size=", batch_size, " must be divisible by the ", ranks, " ranks");
  if (flags.has("threads")) {
    set_num_threads(static_cast<int>(flags.num("threads", 1)));
  } else if (group) {
    set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / group->local_size()));
  }
  set_deterministic(flags.has("deterministic"));

  const std::string data_dir = flags.str("data_dir", "data/mnist");
  auto train = io::load_mnist(data_dir, true);
  auto test = io::load_mnist(data_dir, false);
  for (const auto* s : {&train.status(), &test.status()}) {
    if (!s->ok()) {
      std::fprintf(stderr, "mnist_cnn: %s\n(run tools/fetch_mnist.sh to fetch MNIST into data/mnist)\n",
                   std::string(s->message()).c_str());
      return 2;
    }
  }
  if (flags.has("train_limit")) *train = io::first_examples(*train, static_cast<int64_t>(flags.num("train_limit", 0)));
  if (flags.has("test_limit")) *test = io::first_examples(*test, static_cast<int64_t>(flags.num("test_limit", 0)));
  const Tensor train_images = train->images, train_labels = train->labels;

  manual_seed(seed);
  auto model = arch.build();
  auto optimizer = examples::make_optimizer(arch.recipe, model->parameters(), lr, flags.num("weight_decay", 0.0));
  const io::Transform norm = io::normalize(io::kMnistMean, io::kMnistStd);
  io::Transform train_transform = norm;
  if (flags.has("augment")) {
    auto shift = random_shift(2, seed);
    train_transform = [shift, norm](io::Batch b) { return norm(shift(std::move(b))); };
  }
  io::DataLoaderOptions train_options{.batch_size = batch_size / ranks, .shuffle = true, .seed = seed};
  io::DataLoaderOptions test_options{.batch_size = 1000, .shuffle = false};
  std::optional<distributed::DistributedDataParallel> ddp;
  if (group) {
    train_options = distributed::shard_for_rank(train_options, *group);
    test_options = distributed::shard_for_rank(test_options, *group);
    ddp.emplace(model, *group);  // every rank starts from rank 0's weights
  }
  io::DataLoader train_loader(io::TensorDataset(train_images, train_labels), train_options, train_transform);
  io::DataLoader test_loader(io::TensorDataset(test->images, test->labels), test_options, norm);
  const int64_t total_steps = train_loader.num_batches() * epochs;
  std::unique_ptr<optim::LRScheduler> scheduler;
  bool per_batch = true;
  if (schedule == "onecycle") {
    scheduler = std::make_unique<optim::OneCycleLR>(*optimizer, lr, total_steps);
  } else if (schedule == "cosine") {
    scheduler = std::make_unique<optim::CosineAnnealingLR>(*optimizer, total_steps);
  } else if (schedule == "step") {
    scheduler = std::make_unique<optim::StepLR>(*optimizer, 1, 0.5);
    per_batch = false;
  } else {
    TG_CHECK(schedule == "none", "unknown --schedule '", schedule, "' (none, onecycle, cosine, step)");
  }
  const double label_smoothing = flags.num("label_smoothing", 0.0);

  std::printf("arch %s params %lld optimizer %s lr %g batch_size %lld epochs %d threads %d train_images %lld%s\n",
              arch.name.c_str(), static_cast<long long>(model->num_parameters()), arch.recipe.optimizer.c_str(), lr,
              static_cast<long long>(batch_size), epochs, get_num_threads(), static_cast<long long>(train_images.size(0)),
              group ? (" ranks " + std::to_string(ranks)).c_str() : "");
  std::vector<examples::EpochMetrics> metrics;
  int64_t step = 0;
  int first_epoch = 1;
  if (flags.has("resume")) {
    TG_CHECK(flags.has("checkpoint"), "--resume needs --checkpoint=PATH");
    io::TrainingState state{model.get(), optimizer.get(), scheduler.get()};
    const absl::Status loaded = io::load_checkpoint(flags.str("checkpoint", ""), &state);
    if (!loaded.ok()) {
      std::fprintf(stderr, "mnist_cnn: cannot resume: %s\n", std::string(loaded.message()).c_str());
      return 2;
    }
    TG_CHECK(state.metadata.count("arch") && state.metadata.at("arch") == arch.name, "--resume: the checkpoint is for --arch=",
             state.metadata.count("arch") ? state.metadata.at("arch") : "?");
    first_epoch = static_cast<int>(state.epoch) + 1;
    step = state.step;
    for (int e = 1; e < first_epoch; ++e) {
      const std::string key = "epoch" + std::to_string(e);
      if (!state.metadata.count(key)) continue;
      examples::EpochMetrics m{e, 0, 0, 0};
      std::sscanf(state.metadata.at(key).c_str(), "%lf,%lf,%lf", &m.train_loss, &m.test_accuracy, &m.seconds);
      metrics.push_back(m);
    }
    std::printf("resumed from %s after epoch %d\n", flags.str("checkpoint", "").c_str(), first_epoch - 1);
  }
  std::optional<autograd::DetectAnomalyGuard> detect_anomaly;
  if (flags.has("detect_anomaly")) detect_anomaly.emplace();
  for (int e = first_epoch; e <= epochs; ++e) {
    const auto start = std::chrono::steady_clock::now();
    examples::Progress progress(e, train_loader.num_batches(), batch_size);
    double loss_sum = 0, examples = 0;  // this rank's example-weighted loss
    int64_t batches = 0;
    auto epoch = train_loader.epoch(e - 1);
    for (io::Batch b; epoch->next(&b);) {
      optimizer->zero_grad();
      const int64_t n = b.targets.numel();  // 0 only for a rank's empty part of a ragged last batch
      double l = 0;
      if (n > 0) {
        Tensor loss = cross_entropy((*model)(b.inputs), b.targets, Reduction::kMean, label_smoothing);
        loss.backward();
        l = loss.item();
      }
      if (ddp) ddp->synchronize_gradients(n);
      optimizer->step();
      ++step;
      if (scheduler && per_batch && step < total_steps) scheduler->step();
      loss_sum += l * n;
      examples += n;
      progress.update(batches++, l);
    }
    if (scheduler && !per_batch) scheduler->step();
    progress.finish();
    const io::ClassificationCounts counts = io::count_correct(*model, test_loader);
    // Metrics over all ranks' examples: [loss sum, examples, correct, tested].
    std::vector<double> totals{loss_sum, examples, double(counts.correct), double(counts.total)};
    if (group) {
      totals = group->sum(totals);
      TG_CHECK(distributed::replicas_identical(*model, *group), "--distributed: the ranks' weights diverged");
    }
    const double train_loss = totals[0] / totals[1], accuracy = totals[3] > 0 ? totals[2] / totals[3] : 0.0;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.push_back({e, train_loss, accuracy, seconds});
    std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.1f\n", e, train_loss, accuracy, seconds);
    if (group) {
      std::printf("epoch %d weights bit-identical on all %d ranks; gradient synchronization %.1f s so far\n", e, ranks,
                  ddp->sync_seconds());
    }
    std::fflush(stdout);
    if (!main_rank) continue;  // rank 0 alone writes files
    if (flags.has("checkpoint")) {
      io::TrainingState state{model.get(), optimizer.get(), scheduler.get(), e, step, {{"arch", arch.name}}};
      for (const auto& m : metrics) {
        char line[96];
        std::snprintf(line, sizeof line, "%.17g,%.17g,%.17g", m.train_loss, m.test_accuracy, m.seconds);
        state.metadata["epoch" + std::to_string(m.epoch)] = line;
      }
      const absl::Status saved = io::save_checkpoint(flags.str("checkpoint", ""), state);
      if (!saved.ok()) {
        std::fprintf(stderr, "mnist_cnn: checkpoint failed: %s\n", std::string(saved.message()).c_str());
        return 1;
      }
    }
    if (flags.has("metrics_csv")) {
      const std::string err = examples::write_metrics_csv(flags.str("metrics_csv", ""), metrics);
      if (!err.empty()) std::fprintf(stderr, "mnist_cnn: %s\n", err.c_str());
    }
    if (flags.has("plot")) {
      const std::string err = examples::write_plot_svg(flags.str("plot", ""), "MNIST " + arch.name, metrics);
      if (!err.empty()) std::fprintf(stderr, "mnist_cnn: %s\n", err.c_str());
    }
  }
  if (metrics.empty()) {
    std::printf("nothing to train: the checkpoint already covers %d epochs\n", epochs);
    return 0;
  }
  std::printf("test_accuracy %.4f\n", metrics.back().test_accuracy);
  if (flags.has("save") && main_rank) {
    model->eval();
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.4f", metrics.back().test_accuracy);
    const Tensor example = Tensor(test->images.data().narrow(0, 0, 1));
    const absl::Status saved = io::save_model(
        *model, example, flags.str("save", ""),
        {{"architecture", arch.name}, {"dataset", "mnist"}, {"epochs", std::to_string(epochs)},
         {"seed", std::to_string(seed)}, {"test_accuracy", accuracy},
         {"input_mean", std::to_string(io::kMnistMean)}, {"input_std", std::to_string(io::kMnistStd)}});
    if (!saved.ok()) {
      std::fprintf(stderr, "mnist_cnn: saving the model failed: %s\n", std::string(saved.message()).c_str());
      return 1;
    }
    std::printf("saved %s\n", flags.str("save", "").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  try {
    code = run(argc, argv);
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "mnist_cnn: %s\n", e.what());
    code = 2;
  }
  // A failing rank takes the whole MPI job down instead of leaving the others waiting.
  if (code != 0 && g_group != nullptr) g_group->abort(code);
  return code;
}
