// tapegrad/io/checkpoint.h: training checkpoints: model state, optimizer state (hyper-parameters,
// per-parameter step counts and moments), LR-scheduler step, epoch/step counters and the default
// random generator's state. Resuming from a checkpoint written at an epoch boundary reproduces
// the uninterrupted run bit for bit. Writes are atomic (see file_io.h).
//   tg::io::TrainingState state{model.get(), optimizer.get(), scheduler.get()};
//   state.epoch = e;  tg::io::save_checkpoint("run.ckpt", state);
//   ...  tg::io::load_checkpoint("run.ckpt", &state);   // then continue from state.epoch
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nn/module.h"
#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"

namespace tg::io {

// The metrics of one completed epoch, by name.
struct EpochRecord {
  int64_t epoch = 0;
  std::map<std::string, double> values;
  bool operator==(const EpochRecord& o) const { return epoch == o.epoch && values == o.values; }
};

struct TrainingState {
  nn::Module* module = nullptr;
  optim::Optimizer* optimizer = nullptr;   // optional
  optim::LRScheduler* scheduler = nullptr;  // optional
  int64_t epoch = 0;                        // epochs completed
  int64_t step = 0;                         // optimizer steps completed
  std::map<std::string, std::string> metadata;
  std::vector<EpochRecord> history;  // per-epoch metrics so far (epochs increasing, <= epoch)
};

absl::Status save_checkpoint(const std::string& path, const TrainingState& state);
// Restores into the objects `state` points to (which must have the same structure as the saved
// ones) and sets epoch, step and metadata. Nothing is modified if it fails.
absl::Status load_checkpoint(const std::string& path, TrainingState* state);
// The metadata a checkpoint was saved with, restoring nothing: a run can check its settings
// against them before load_checkpoint (whose errors are about shapes, not settings).
absl::StatusOr<std::map<std::string, std::string>> read_checkpoint_metadata(const std::string& path);
// The same from bytes in memory; `source` names them in errors.
absl::Status parse_checkpoint(const std::string& bytes, const std::string& source, TrainingState* state);

}  // namespace tg::io
