// tapegrad/examples/epoch_log.h: the record of a training run's epochs and the files an example
// writes from it after each epoch, with the flags every example shares:
//   --checkpoint=PATH   the model, optimizer, schedule, epoch, step, the metrics so far and the
//                       default generator (io::save_checkpoint, written atomically)
//   --resume            continue from --checkpoint: the run goes on as if never interrupted
//   --metrics_csv=PATH  epoch, train_loss, the quality metric, seconds
//   --plot=PATH         an SVG of the training loss and the quality metric per epoch
// An example builds its model, optimizer and schedule as usual, calls resume() for the first epoch
// to train and record() after each epoch.
#pragma once

#include <string>
#include <vector>

#include "examples/training_report.h"
#include "io/checkpoint.h"

namespace tg::examples {

class EpochLog {
 public:
  // program: the name in messages; title: the plot's; quality: what the example measures.
  EpochLog(std::string program, std::string title, Quality quality = {});

  // Without --resume: 1. With it: restores the objects `state` points to, the default generator
  // (io::load_checkpoint) and the metrics from --checkpoint, says so on stdout and returns the
  // first epoch still to train (resumed_step() is then the optimizer steps done). A checkpoint
  // whose metadata differs from state.metadata (the settings the caller puts there: model size,
  // batch, ...) is refused naming the first difference; so is --resume without --checkpoint.
  // Throws tg::Error.
  int resume(io::TrainingState state);
  // The same for a run that trains several models, each with its own optimizer (a GAN's generator
  // and discriminator): states[0] is saved to --checkpoint=PATH and states[i] to PATH.i, as
  // pytorch/examples' dcgan saves its two networks apart. Files of different epochs (a run
  // stopped between writing them) are refused.
  int resume(std::vector<io::TrainingState> states);
  int64_t resumed_step() const { return resumed_step_; }

  // After an epoch: adds `m` and writes the files asked for; `state` is saved with the epoch
  // number and the metrics so far. Throws tg::Error when a file cannot be written. write_files
  // false: adds `m` only (a data-parallel rank other than 0).
  void record(const EpochMetrics& m, io::TrainingState state, bool write_files = true);
  void record(const EpochMetrics& m, std::vector<io::TrainingState> states);

  const std::vector<EpochMetrics>& metrics() const { return metrics_; }

 private:
  std::string program_, title_;
  Quality quality_;
  std::vector<EpochMetrics> metrics_;
  int64_t resumed_step_ = 0;
};

}  // namespace tg::examples
