// tapegrad/examples/char_gpt.cc: a nanoGPT-style transformer (examples/char_gpt_model.h) learns the
// bytes of a text corpus (default: Debian's fortunes): AdamW on random windows, validation loss
// after each epoch, then text sampled with temperature and top-k through a key/value cache.
//   bazel run -c opt //examples:char_gpt -- --epochs=5 --generate=300
// Prints "epoch E train_loss X validation_loss Y validation_bits_per_byte Z seconds S" per epoch
// (losses in nats per byte), then "validation_loss Y" and, with --generate=N, N sampled bytes.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/char_gpt_model.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/evaluate.h"
#include "io/model_file.h"
#include "io/text_corpus.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data, "/usr/share/games/fortunes", "a text file, or a folder of them (Debian's fortunes)");
ABSL_FLAG(int, epochs, 5, "epochs of --steps_per_epoch steps");
ABSL_FLAG(int, steps_per_epoch, 200, "training steps (random windows) per epoch");
ABSL_FLAG(int64_t, batch_size, 32, "windows per step");
ABSL_FLAG(int64_t, context, 128, "bytes per window (the model's positions)");
ABSL_FLAG(int64_t, d_model, 128, "model width");
ABSL_FLAG(int64_t, heads, 4, "attention heads");
ABSL_FLAG(int64_t, layers, 4, "transformer blocks");
ABSL_FLAG(int64_t, mlp, 512, "hidden size of each block's MLP");
ABSL_FLAG(double, lr, 1e-3, "AdamW learning rate");
ABSL_FLAG(double, weight_decay, 0.1, "AdamW weight decay");
ABSL_FLAG(double, clip, 1.0, "gradient norm clipping");
ABSL_FLAG(int64_t, validation_windows, 200, "at most this many validation windows (0: all)");
ABSL_FLAG(int, generate, 0, "bytes to sample after training");
ABSL_FLAG(double, temperature, 0.8, "sampling temperature (0: greedy)");
ABSL_FLAG(int64_t, top_k, 0, "sample among the k likeliest bytes only (0: all)");
ABSL_FLAG(std::string, prompt, "\n", "the text sampling starts from");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, windows and sampling");
ABSL_FLAG(std::string, save, "", "write the trained weights (state dict) here");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

int main(int argc, char** argv) {
  using namespace tg;
  absl::SetProgramUsageMessage("char_gpt [--epochs=N] [--generate=N]: a small GPT learns a text corpus byte by byte");
  absl::ParseCommandLine(argc, argv);
  try {
    auto corpus = io::load_text_corpus(absl::GetFlag(FLAGS_data));
    if (!corpus.ok()) {
      std::fprintf(stderr, "char_gpt: %s\n(Debian's fortunes: apt-get install fortunes, or bash tools/setup.sh)\n",
                   std::string(corpus.status().message()).c_str());
      return 1;
    }
    const int64_t context = absl::GetFlag(FLAGS_context), batch = absl::GetFlag(FLAGS_batch_size);
    const int epochs = absl::GetFlag(FLAGS_epochs), steps = absl::GetFlag(FLAGS_steps_per_epoch);
    TG_CHECK(context > 0 && batch > 0 && epochs > 0 && steps > 0,
             "--context, --batch_size, --epochs and --steps_per_epoch must be positive");
    manual_seed(absl::GetFlag(FLAGS_seed));
    examples::CharGpt model(examples::CharGptOptions{.vocab_size = corpus->vocab_size(),
                                                     .context = context,
                                                     .d_model = absl::GetFlag(FLAGS_d_model),
                                                     .heads = absl::GetFlag(FLAGS_heads),
                                                     .layers = absl::GetFlag(FLAGS_layers),
                                                     .mlp = absl::GetFlag(FLAGS_mlp)});
    optim::AdamW optimizer(model.parameters(), absl::GetFlag(FLAGS_lr), {}, absl::GetFlag(FLAGS_weight_decay));
    std::printf("params %lld vocab %lld train_bytes %zu validation_bytes %zu\n",
                static_cast<long long>(model.num_parameters()), static_cast<long long>(corpus->vocab_size()),
                corpus->train.size(), corpus->validation.size());

    examples::EpochLog log("char_gpt", "GPT on fortunes", {.name = "validation_loss", .fraction = false});
    const io::TrainingState state{&model, &optimizer, nullptr, 0, 0,
                                  {{"context", std::to_string(context)},
                                   {"d_model", std::to_string(absl::GetFlag(FLAGS_d_model))},
                                   {"layers", std::to_string(absl::GetFlag(FLAGS_layers))}}};
    for (int epoch = log.resume(state); epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model.train();
      examples::Progress progress(epoch, steps, batch * context);
      double loss_sum = 0;
      for (int step = 0; step < steps; ++step) {
        const io::Batch b = io::random_windows(corpus->train, batch, context);
        optimizer.zero_grad();
        const Tensor logits = model(b.inputs);
        Tensor loss = cross_entropy(logits.reshape({-1, logits.size(2)}), b.targets.reshape({-1}));
        loss.backward();
        optim::clip_grad_norm_(model.parameters(), absl::GetFlag(FLAGS_clip));
        optimizer.step();
        loss_sum += loss.item();
        progress.update(step, loss.item());
      }
      progress.finish();
      const double validation_loss =
          io::next_token_loss(model, corpus->validation, context, absl::GetFlag(FLAGS_validation_windows));
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f validation_loss %.4f validation_bits_per_byte %.4f seconds %.1f\n", epoch,
                  loss_sum / steps, validation_loss, validation_loss / std::log(2.0), seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / steps, validation_loss, seconds}, state);
    }
    std::printf("validation_loss %.4f\n", log.metrics().back().quality);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      const absl::Status saved = io::save(model, path);
      TG_CHECK(saved.ok(), "saving failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
    if (const int n = absl::GetFlag(FLAGS_generate); n > 0) {
      const auto start = std::chrono::steady_clock::now();
      const std::vector<int64_t> text =
          model.generate(corpus->encode(absl::GetFlag(FLAGS_prompt)), n, /*use_cache=*/true,
                         {.temperature = absl::GetFlag(FLAGS_temperature), .top_k = absl::GetFlag(FLAGS_top_k)});
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("--- %d sampled bytes (%.0f bytes/s with the key/value cache) ---\n%s\n", n, n / seconds,
                  corpus->decode(text).c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "char_gpt: %s\n", e.what());
    return 2;
  }
  return 0;
}
