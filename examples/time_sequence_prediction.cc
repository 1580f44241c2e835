// tapegrad/examples/time_sequence_prediction.cc: two stacked LSTMCells learn sine waves and then
// continue them on their own, trained with L-BFGS in float64 (pytorch/examples'
// time_sequence_prediction).
//   bazel run -c opt //examples:time_sequence_prediction -- --steps=15 --plot=$PWD/sine.svg
// Data: N waves sin((t + phase) / T) of L samples, phases drawn in [-4T, 4T); the first 3 are the
// test waves. Per L-BFGS step it prints "step S loss X test_loss Y seconds Z"; at the end "test_mse Y" (the
// test waves predicted one step ahead, then --future steps more from its own outputs, plotted).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "autograd/tapegrad.h"
#include "io/files.h"
#include "io/npy.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(int, steps, 15, "L-BFGS steps (each up to 20 iterations)");
ABSL_FLAG(int64_t, waves, 100, "sine waves (the first 3 test, the rest train)");
ABSL_FLAG(int64_t, length, 1000, "samples per wave");
ABSL_FLAG(int64_t, hidden, 51, "LSTMCell size");
ABSL_FLAG(int64_t, future, 1000, "steps predicted beyond each test wave from the model's own outputs");
ABSL_FLAG(std::string, plot, "", "an SVG of the test waves and their predicted continuations");
ABSL_FLAG(uint64_t, seed, 0, "seed of the phases and the initialization");
ABSL_FLAG(std::string, initial_weights, "",
          "write the initial parameters to this directory as NAME.npy (the PyTorch twin's --initial_weights reads "
          "them, so both train from the same start)");

namespace {

using namespace tg;

// input [N, L] -> outputs [N, L + future]: each step's prediction of the next sample; after the
// input ends, each prediction is fed back as the next input.
class Sequence : public nn::Module {
 public:
  explicit Sequence(int64_t hidden) : Module("Sequence"), hidden_(hidden) {
    lstm1_ = register_module("lstm1", std::make_shared<nn::LSTMCell>(1, hidden));
    lstm2_ = register_module("lstm2", std::make_shared<nn::LSTMCell>(hidden, hidden));
    linear_ = register_module("linear", std::make_shared<nn::Linear>(hidden, 1));
  }

  Tensor forward(const Tensor& input) override { return forward(input, 0); }

  Tensor forward(const Tensor& input, int64_t future) {
    const int64_t n = input.size(0);
    auto zeros_state = [&] { return zeros({n, hidden_}, input.dtype()); };
    std::tuple<Tensor, Tensor> s1{zeros_state(), zeros_state()}, s2{zeros_state(), zeros_state()};
    std::vector<Tensor> outputs;
    Tensor output;
    auto step = [&](const Tensor& x) {
      s1 = lstm1_->forward(x, s1);
      s2 = lstm2_->forward(std::get<0>(s1), s2);
      output = (*linear_)(std::get<0>(s2));
      outputs.push_back(output);
    };
    for (int64_t t = 0; t < input.size(1); ++t) step(input.narrow(1, t, 1));
    for (int64_t t = 0; t < future; ++t) step(output);
    return cat(outputs, 1);
  }

 private:
  int64_t hidden_;
  std::shared_ptr<nn::LSTMCell> lstm1_, lstm2_;
  std::shared_ptr<nn::Linear> linear_;
};

// The test waves (solid) and the model's continuation (dashed) as SVG polylines.
std::string plot(const Tensor& truth, const Tensor& predicted, int64_t given) {
  const char* colors[] = {"#d62728", "#2ca02c", "#1f77b4"};
  const int64_t length = predicted.size(1);
  const double w = 900, h = 300;
  std::string svg = absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", w, "\" height=\"", h,
                                 "\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                                 "<text x=\"10\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\">sine waves "
                                 "(solid) and the model's predictions (dashed: beyond the input, from its own outputs)"
                                 "</text><line x1=\"",
                                 w * given / length, "\" y1=\"30\" x2=\"", w * given / length, "\" y2=\"", h,
                                 "\" stroke=\"#999\"/>");
  auto polyline = [&](const std::vector<double>& ys, const char* color, bool dashed) {
    std::string points;
    for (size_t t = 0; t < ys.size(); ++t) {
      absl::StrAppend(&points, w * t / length, ",", h / 2 + 30 - ys[t] * (h / 2 - 40), " ");
    }
    absl::StrAppend(&svg, "<polyline fill=\"none\" stroke=\"", color, "\" stroke-width=\"1.5\"",
                    dashed ? " stroke-dasharray=\"4 3\"" : "", " points=\"", points, "\"/>");
  };
  for (int64_t i = 0; i < truth.size(0) && i < 3; ++i) {
    polyline(truth.select(0, i).to_vector<double>(), colors[i], false);
    polyline(predicted.select(0, i).to_vector<double>(), colors[i], true);
  }
  return svg + "</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("time_sequence_prediction [--steps=N] [--plot=OUT.svg]: LSTMCells continue sine waves");
  absl::ParseCommandLine(argc, argv);
  try {
    const int64_t n = absl::GetFlag(FLAGS_waves), length = absl::GetFlag(FLAGS_length), period = 20;
    TG_CHECK(n > 3 && length > 2 && absl::GetFlag(FLAGS_steps) > 0 && absl::GetFlag(FLAGS_future) >= 0,
             "--waves must exceed 3, --length 2, --steps must be positive and --future >= 0");
    // The waves: sin((t + phase) / T), phase in [-4T, 4T).
    ops::Generator gen(absl::GetFlag(FLAGS_seed));
    std::vector<double> samples;
    for (int64_t i = 0; i < n; ++i) {
      const auto phase = static_cast<int64_t>(gen.next_u64() % (8 * period)) - 4 * period;
      for (int64_t t = 0; t < length; ++t) samples.push_back(std::sin(static_cast<double>(t + phase) / period));
    }
    const Tensor data = tensor(samples, {n, length}, kFloat64);
    const Tensor input = data.narrow(0, 3, n - 3).narrow(1, 0, length - 1);
    const Tensor target = data.narrow(0, 3, n - 3).narrow(1, 1, length - 1);
    const Tensor test_input = data.narrow(0, 0, 3).narrow(1, 0, length - 1);
    const Tensor test_target = data.narrow(0, 0, 3).narrow(1, 1, length - 1);

    manual_seed(absl::GetFlag(FLAGS_seed));
    Sequence model(absl::GetFlag(FLAGS_hidden));
    model.to(kFloat64);
    if (const std::string dir = absl::GetFlag(FLAGS_initial_weights); !dir.empty()) {
      std::error_code error;
      std::filesystem::create_directories(dir, error);
      TG_CHECK(!error, "cannot create ", dir, ": ", error.message());
      for (const auto& [name, p] : model.named_parameters()) {
        const absl::Status saved = io::save_npy(p.detach(), dir + "/" + name + ".npy");
        TG_CHECK(saved.ok(), saved.message());
      }
    }
    optim::LBFGS optimizer(model.parameters(), /*lr=*/0.8);
    double test_loss = 0;
    Tensor prediction;
    for (int step = 1; step <= absl::GetFlag(FLAGS_steps); ++step) {
      const auto start = std::chrono::steady_clock::now();
      const Tensor loss = optimizer.step([&] {
        optimizer.zero_grad();
        Tensor l = mse_loss(model.forward(input, 0), target);
        l.backward();
        return l;
      });
      NoGradGuard no_grad;
      prediction = model.forward(test_input, absl::GetFlag(FLAGS_future));
      test_loss = mse_loss(prediction.narrow(1, 0, length - 1), test_target).item();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("step %d loss %.6g test_loss %.6g seconds %.1f\n", step, loss.item(), test_loss, seconds);
      std::fflush(stdout);
    }
    std::printf("test_mse %.6g\n", test_loss);
    if (const std::string path = absl::GetFlag(FLAGS_plot); !path.empty()) {
      const absl::Status s = io::write_file_atomically(path, plot(test_target, prediction, length - 1));
      TG_CHECK(s.ok(), "cannot write the plot: ", s.message());
      std::printf("wrote %s\n", path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "time_sequence_prediction: %s\n", e.what());
    return 2;
  }
  return 0;
}
