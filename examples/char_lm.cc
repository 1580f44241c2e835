// tapegrad/examples/char_lm.cc: a character (byte) language model, as pytorch/examples'
// word_language_model on bytes: an LSTM, a GRU or a causal transformer learns to predict the next
// byte of a text corpus (default: Debian's fortunes), reports validation bits per byte after each
// epoch and samples text.
//   bazel run -c opt //examples:char_lm -- --model=lstm --epochs=5 --generate=300
// Prints "epoch E train_loss X validation_bits_per_byte Y seconds Z" per epoch, then
// "validation_bits_per_byte Y" and, with --generate=N, N sampled bytes.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "examples/training_report.h"
#include "io/evaluate.h"
#include "io/model_file.h"
#include "io/text_corpus.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, data, "/usr/share/games/fortunes", "a text file, or a folder of them (Debian's fortunes)");
ABSL_FLAG(std::string, model, "lstm", "lstm, gru or transformer");
ABSL_FLAG(int, epochs, 5, "epochs of --steps_per_epoch steps");
ABSL_FLAG(int, steps_per_epoch, 200, "training steps (random windows) per epoch");
ABSL_FLAG(int64_t, batch_size, 32, "windows per step");
ABSL_FLAG(int64_t, context, 64, "bytes per window (backpropagation through time)");
ABSL_FLAG(int64_t, embedding, 128, "embedding size");
ABSL_FLAG(int64_t, hidden, 256, "hidden size (LSTM/GRU) or model width (transformer)");
ABSL_FLAG(int64_t, layers, 2, "recurrent or transformer layers");
ABSL_FLAG(double, dropout, 0.1, "dropout between layers");
ABSL_FLAG(double, lr, 2e-3, "Adam learning rate");
ABSL_FLAG(double, clip, 1.0, "gradient norm clipping");
ABSL_FLAG(int64_t, validation_windows, 400, "at most this many validation windows (0: all)");
ABSL_FLAG(int, generate, 0, "bytes to sample after training");
ABSL_FLAG(double, temperature, 0.8, "sampling temperature");
ABSL_FLAG(int64_t, top_k, 0, "sample among the k likeliest bytes only (0: all)");
ABSL_FLAG(std::string, prompt, "\n", "the text sampling starts from");
ABSL_FLAG(uint64_t, seed, 0, "seed of initialization, windows, dropout and sampling");
ABSL_FLAG(std::string, save, "", "write the trained weights (state dict) here");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

// ids [B, T] -> logits [B, T, V].
class CharModel : public nn::Module {
 public:
  CharModel(const std::string& kind, int64_t vocab, int64_t context) : Module("CharModel"), kind_(kind) {
    const int64_t emb = absl::GetFlag(FLAGS_embedding), hidden = absl::GetFlag(FLAGS_hidden);
    const int64_t layers = absl::GetFlag(FLAGS_layers);
    const double dropout = absl::GetFlag(FLAGS_dropout);
    drop_ = register_module("drop", std::make_shared<nn::Dropout>(dropout));
    if (kind == "transformer") {
      embed_ = register_module("embed", std::make_shared<nn::Embedding>(vocab, hidden));
      position_ = register_parameter("position", randn({context, hidden}) * 0.02);
      nn::TransformerEncoderLayerOptions layer{hidden, std::max<int64_t>(1, hidden / 64), 4 * hidden, dropout,
                                               "gelu", 1e-5, /*batch_first=*/true, /*norm_first=*/true};
      encoder_ = register_module("encoder", std::make_shared<nn::TransformerEncoder>(
                                                nn::TransformerEncoderOptions{layer, layers, /*final_norm=*/true}));
    } else {
      TG_CHECK(kind == "lstm" || kind == "gru", "--model=", kind, ": expected lstm, gru or transformer");
      embed_ = register_module("embed", std::make_shared<nn::Embedding>(vocab, emb));
      const nn::RNNOptionsBase options{emb, hidden, layers, true, /*batch_first=*/true, dropout};
      if (kind == "lstm") {
        rnn_ = register_module("rnn", std::make_shared<nn::LSTM>(options));
      } else {
        rnn_ = register_module("rnn", std::make_shared<nn::GRU>(options));
      }
    }
    head_ = register_module("head", std::make_shared<nn::Linear>(hidden, vocab));
  }

  Tensor forward(const Tensor& ids) override {
    Tensor x = (*embed_)(ids);
    if (kind_ == "transformer") {
      const int64_t t = ids.size(1);
      x = (*drop_)(x + narrow(position_, 0, 0, t));
      x = encoder_->forward(x, nn::generate_square_subsequent_mask(t));
    } else {
      x = (*drop_)(rnn_->forward((*drop_)(x)));
    }
    return (*head_)(x);
  }

 private:
  std::string kind_;
  std::shared_ptr<nn::Module> embed_, rnn_, drop_, head_;
  std::shared_ptr<nn::TransformerEncoder> encoder_;
  Tensor position_;
};

// Cross-entropy of logits [B, T, V] against targets [B, T] (mean over every byte).
Tensor loss_of(const Tensor& logits, const Tensor& targets) {
  return cross_entropy(logits.reshape({-1, logits.size(2)}), targets.reshape({-1}));
}

// `count` bytes sampled after `prompt` (softmax of logits / temperature, among the top_k).
std::string sample(CharModel& model, const io::TextCorpus& corpus, const std::string& prompt, int count,
                   int64_t context) {
  model.eval();
  NoGradGuard no_grad;
  std::vector<int64_t> ids = corpus.encode(prompt);
  const double temperature = absl::GetFlag(FLAGS_temperature);
  const int64_t top_k = absl::GetFlag(FLAGS_top_k);
  TG_CHECK(temperature > 0, "--temperature must be positive");
  std::vector<int64_t> generated;
  for (int i = 0; i < count; ++i) {
    const int64_t start = std::max<int64_t>(0, static_cast<int64_t>(ids.size()) - context);
    const std::vector<int64_t> window(ids.begin() + start, ids.end());
    const Tensor logits = model(tensor(window, {1, static_cast<int64_t>(window.size())}, kInt64));
    Tensor last = logits.select(1, logits.size(1) - 1).reshape({-1}) / temperature;
    if (top_k > 0 && top_k < last.size(0)) {
      const double kth = std::get<0>(topk(last, top_k)).index({top_k - 1}).item();
      last = masked_fill(last, last < kth, -INFINITY);
    }
    const int64_t next = multinomial(softmax(last, 0), 1).item<int64_t>();
    ids.push_back(next);
    generated.push_back(next);
  }
  return corpus.decode(generated);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("char_lm [--model=lstm|gru|transformer] [--epochs=N] [--generate=N]: a byte-level language model");
  absl::ParseCommandLine(argc, argv);
  try {
    auto corpus = io::load_text_corpus(absl::GetFlag(FLAGS_data));
    if (!corpus.ok()) {
      std::fprintf(stderr, "char_lm: %s\n(Debian's fortunes: apt-get install fortunes, or bash tools/setup.sh)\n",
                   std::string(corpus.status().message()).c_str());
      return 1;
    }
    const int64_t context = absl::GetFlag(FLAGS_context), batch = absl::GetFlag(FLAGS_batch_size);
    TG_CHECK(context > 0 && batch > 0 && absl::GetFlag(FLAGS_epochs) > 0 && absl::GetFlag(FLAGS_steps_per_epoch) > 0,
             "--context, --batch_size, --epochs and --steps_per_epoch must be positive");
    manual_seed(absl::GetFlag(FLAGS_seed));
    CharModel model(absl::GetFlag(FLAGS_model), corpus->vocab_size(), context);
    optim::Adam optimizer(model.parameters(), absl::GetFlag(FLAGS_lr));
    std::printf("model %s params %lld vocab %lld train_bytes %zu validation_bytes %zu\n",
                absl::GetFlag(FLAGS_model).c_str(), static_cast<long long>(model.num_parameters()),
                static_cast<long long>(corpus->vocab_size()), corpus->train.size(), corpus->validation.size());

    examples::EpochLog log("char_lm", absl::GetFlag(FLAGS_model) + " on fortunes",
                           {.name = "validation_bits_per_byte", .fraction = false});
    const io::TrainingState state{&model, &optimizer, nullptr, 0, 0,
                                  {{"model", absl::GetFlag(FLAGS_model)}, {"context", std::to_string(context)}}};
    for (int epoch = log.resume(state); epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model.train();
      const int steps = absl::GetFlag(FLAGS_steps_per_epoch);
      examples::Progress progress(epoch, steps, batch * context);
      double loss_sum = 0;
      for (int step = 0; step < steps; ++step) {
        const io::Batch b = io::random_windows(corpus->train, batch, context);
        optimizer.zero_grad();
        Tensor loss = loss_of(model(b.inputs), b.targets);
        loss.backward();
        optim::clip_grad_norm_(model.parameters(), absl::GetFlag(FLAGS_clip));
        optimizer.step();
        loss_sum += loss.item();
        progress.update(step, loss.item());
      }
      progress.finish();
      const double nats =
          io::next_token_loss(model, corpus->validation, context, absl::GetFlag(FLAGS_validation_windows));
      const double bits = nats / std::log(2.0);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d train_loss %.4f validation_bits_per_byte %.4f seconds %.1f\n", epoch, loss_sum / steps,
                  bits, seconds);
      std::fflush(stdout);
      log.record({epoch, loss_sum / steps, bits, seconds}, state);
    }
    std::printf("validation_bits_per_byte %.4f\n", log.metrics().back().quality);
    if (const std::string path = absl::GetFlag(FLAGS_save); !path.empty()) {
      const absl::Status saved = io::save(model, path);
      TG_CHECK(saved.ok(), "saving failed: ", saved.message());
      std::printf("saved %s\n", path.c_str());
    }
    if (const int n = absl::GetFlag(FLAGS_generate); n > 0) {
      std::printf("--- %d sampled bytes ---\n%s\n", n, sample(model, *corpus, absl::GetFlag(FLAGS_prompt), n, context).c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "char_lm: %s\n", e.what());
    return 2;
  }
  return 0;
}
