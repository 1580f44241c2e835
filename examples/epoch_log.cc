// tapegrad/examples/epoch_log.cc: see epoch_log.h.
#include "examples/epoch_log.h"

#include <cstdio>
#include <map>
#include <utility>

#include "absl/flags/flag.h"
#include "ops/error.h"

ABSL_FLAG(std::string, checkpoint, "", "after each epoch, save the training state here (see --resume)");
ABSL_FLAG(bool, resume, false, "continue from --checkpoint (same flags; reproduces the uninterrupted run)");
ABSL_FLAG(std::string, metrics_csv, "", "after each epoch, write the per-epoch metrics here as CSV");
ABSL_FLAG(std::string, plot, "", "after each epoch, write an SVG plot of the loss and quality curves here");

namespace tg::examples {

namespace {

// Where the i-th model's checkpoint goes: --checkpoint itself for the first, PATH.i for the others.
std::string part_path(const std::string& path, size_t i) { return i == 0 ? path : path + "." + std::to_string(i); }

std::map<std::string, double> values_of(const EpochMetrics& m, const Quality& q) {
  return {{"train_loss", m.train_loss}, {q.name, m.quality}, {"seconds", m.seconds}};
}

}  // namespace

EpochLog::EpochLog(std::string program, std::string title, Quality quality)
    : program_(std::move(program)), title_(std::move(title)), quality_(std::move(quality)) {}

int EpochLog::resume(io::TrainingState state) { return resume(std::vector<io::TrainingState>{std::move(state)}); }

int EpochLog::resume(std::vector<io::TrainingState> states) {
  if (!absl::GetFlag(FLAGS_resume)) return 1;
  const std::string path = absl::GetFlag(FLAGS_checkpoint);
  TG_CHECK(!path.empty(), "--resume needs --checkpoint=PATH");
  // The settings first: a run of another size would fail to load with a message about shapes.
  for (size_t i = 0; i < states.size(); ++i) {
    const std::string file = part_path(path, i);
    const auto saved = io::read_checkpoint_metadata(file);
    TG_CHECK(saved.ok(), "cannot resume: ", saved.status().message());
    for (const auto& [key, value] : states[i].metadata) {
      const auto it = saved->find(key);
      TG_CHECK(it != saved->end() && it->second == value, "--resume: ", file, " was written with ", key, "=",
               it == saved->end() ? "(none)" : it->second, ", this run has ", key, "=", value);
    }
  }
  for (size_t i = 0; i < states.size(); ++i) {
    const absl::Status loaded = io::load_checkpoint(part_path(path, i), &states[i]);
    TG_CHECK(loaded.ok(), "cannot resume: ", loaded.message());
    TG_CHECK(states[i].epoch == states[0].epoch, "--resume: ", part_path(path, i), " is of epoch ", states[i].epoch,
             ", ", path, " of epoch ", states[0].epoch, " (the run stopped between writing them)");
  }
  const io::TrainingState& state = states[0];
  resumed_step_ = state.step;
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
  if (write_files) {
    record(m, std::vector<io::TrainingState>{std::move(state)});
  } else {
    metrics_.push_back(m);
  }
}

void EpochLog::record(const EpochMetrics& m, std::vector<io::TrainingState> states) {
  metrics_.push_back(m);
  if (const std::string path = absl::GetFlag(FLAGS_checkpoint); !path.empty()) {
    for (size_t i = 0; i < states.size(); ++i) {
      io::TrainingState& state = states[i];
      state.epoch = m.epoch;
      state.history.clear();
      if (i == 0)  // the metrics travel in the first file
        for (const EpochMetrics& e : metrics_) state.history.push_back({e.epoch, values_of(e, quality_)});
      const absl::Status saved = io::save_checkpoint(part_path(path, i), state);
      TG_CHECK(saved.ok(), program_, ": checkpoint failed: ", saved.message());
    }
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
