// tapegrad/examples/epoch_log.cc: see epoch_log.h. The default generator's state travels in the
// checkpoint's metadata (key "default_generator": its four words, whether a normal is cached and
// that normal as a hexadecimal float), so dropout masks and sampling continue where they were.
#include "examples/epoch_log.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "ops/error.h"
#include "ops/generator.h"

ABSL_FLAG(std::string, checkpoint, "", "after each epoch, save the training state here (see --resume)");
ABSL_FLAG(bool, resume, false, "continue from --checkpoint (same flags; reproduces the uninterrupted run)");
ABSL_FLAG(std::string, metrics_csv, "", "after each epoch, write the per-epoch metrics here as CSV");
ABSL_FLAG(std::string, plot, "", "after each epoch, write an SVG plot of the loss and quality curves here");

namespace tg::examples {

namespace {

constexpr char kGeneratorKey[] = "default_generator";

std::string generator_state() {
  const ops::Generator::State g = ops::default_generator().state();
  return absl::StrFormat("%d %d %d %d %d %a", g.s[0], g.s[1], g.s[2], g.s[3], g.has_cached_normal ? 1 : 0,
                         g.cached_normal);
}

void restore_generator(const std::string& text, const std::string& path) {
  ops::Generator::State g{};
  int cached = 0;
  const int read = std::sscanf(text.c_str(), "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %d %la", &g.s[0],
                               &g.s[1], &g.s[2], &g.s[3], &cached, &g.cached_normal);
  TG_CHECK(read == 6 && (cached == 0 || cached == 1), path, ": metadata '", kGeneratorKey, "' is not a generator state: '",
           text, "'");
  g.has_cached_normal = cached == 1;
  ops::default_generator().set_state(g);
}

std::map<std::string, double> values_of(const EpochMetrics& m, const Quality& q) {
  return {{"train_loss", m.train_loss}, {q.name, m.quality}, {"seconds", m.seconds}};
}

}  // namespace

EpochLog::EpochLog(std::string program, std::string title, Quality quality)
    : program_(std::move(program)), title_(std::move(title)), quality_(std::move(quality)) {}

int EpochLog::resume(io::TrainingState& state) {
  if (!absl::GetFlag(FLAGS_resume)) return 1;
  const std::string path = absl::GetFlag(FLAGS_checkpoint);
  TG_CHECK(!path.empty(), "--resume needs --checkpoint=PATH");
  // The settings first: a run of another size would fail to load with a message about shapes.
  const auto saved = io::read_checkpoint_metadata(path);
  TG_CHECK(saved.ok(), "cannot resume: ", saved.status().message());
  for (const auto& [key, value] : state.metadata) {
    const auto it = saved->find(key);
    TG_CHECK(it != saved->end() && it->second == value, "--resume: ", path, " was written with ", key, "=",
             it == saved->end() ? "(none)" : it->second, ", this run has ", key, "=", value);
  }
  const absl::Status loaded = io::load_checkpoint(path, &state);
  TG_CHECK(loaded.ok(), "cannot resume: ", loaded.message());
  // A checkpoint from before the generator was saved resumes with the generator as seeded.
  if (const auto generator = state.metadata.find(kGeneratorKey); generator != state.metadata.end()) {
    restore_generator(generator->second, path);
  } else {
    std::printf("%s: %s holds no generator state; random draws will differ from the uninterrupted run\n",
                program_.c_str(), path.c_str());
  }
  metrics_.clear();
  for (const io::EpochRecord& h : state.history) {
    auto value = [&](const std::string& k) {
      TG_CHECK(h.values.count(k), path, ": epoch ", h.epoch, " has no '", k, "'");
      return h.values.at(k);
    };
    metrics_.push_back({static_cast<int>(h.epoch), value("train_loss"), value(quality_.name), value("seconds")});
  }
  std::printf("resumed from %s after epoch %lld\n", path.c_str(), static_cast<long long>(state.epoch));
  return static_cast<int>(state.epoch) + 1;
}

void EpochLog::record(const EpochMetrics& m, io::TrainingState state, bool write_files) {
  metrics_.push_back(m);
  if (!write_files) return;
  if (const std::string path = absl::GetFlag(FLAGS_checkpoint); !path.empty()) {
    state.epoch = m.epoch;
    state.metadata[kGeneratorKey] = generator_state();
    state.history.clear();
    for (const EpochMetrics& e : metrics_) state.history.push_back({e.epoch, values_of(e, quality_)});
    const absl::Status saved = io::save_checkpoint(path, state);
    TG_CHECK(saved.ok(), program_, ": checkpoint failed: ", saved.message());
  }
  if (const std::string path = absl::GetFlag(FLAGS_metrics_csv); !path.empty()) {
    const std::string error = write_metrics_csv(path, metrics_, quality_);
    TG_CHECK(error.empty(), program_, ": ", error);
  }
  if (const std::string path = absl::GetFlag(FLAGS_plot); !path.empty()) {
    const std::string error = write_plot_svg(path, title_, metrics_, quality_);
    TG_CHECK(error.empty(), program_, ": ", error);
  }
}

}  // namespace tg::examples
