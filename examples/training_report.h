// tapegrad/examples/training_report.h: what a training run shows and writes: a live progress bar
// on a terminal (plain lines otherwise), the per-epoch metrics CSV and an SVG plot of the training
// loss and the example's quality metric (test accuracy, a validation loss, ...).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tg::examples {

struct EpochMetrics {
  int epoch;
  double train_loss;
  double quality;  // the example's quality metric after the epoch (see Quality)
  double seconds;
};

// What an example measures after each epoch besides its training loss: its name (the CSV column,
// the word before its value on the epoch line) and whether it is a fraction in [0, 1] (an
// accuracy: the plot's axis ends at 1) or on any scale (a loss).
struct Quality {
  std::string name = "test_accuracy";
  bool fraction = true;
};

class Progress {
 public:
  Progress(int epoch, int64_t batches, int64_t batch_size);
  // Called after each batch with that batch's loss.
  void update(int64_t batch, double loss);
  void finish();

 private:
  int epoch_;
  int64_t batches_, batch_size_;
  bool tty_;
  double loss_sum_ = 0;
  int64_t seen_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Returns an empty string on success, else the error (the file is written atomically: a
// temporary in the same directory, then renamed).
std::string write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& metrics,
                              const Quality& quality = {});
std::string write_plot_svg(const std::string& path, const std::string& title, const std::vector<EpochMetrics>& metrics,
                           const Quality& quality = {});
std::string plot_svg(const std::string& title, const std::vector<EpochMetrics>& metrics, const Quality& quality = {});
// text with XML's five special characters escaped, for SVG text and attributes.
std::string xml_escaped(const std::string& text);

}  // namespace tg::examples
