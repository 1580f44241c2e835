// tapegrad/io/evaluate.cc: accuracy and next-token loss evaluation.
#include "io/evaluate.h"

#include <algorithm>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"

namespace tg::io {

ClassificationCounts count_correct(nn::Module& model, const DataLoader& loader) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  int64_t correct = 0, seen = 0;
  auto epoch = loader.epoch(0);
  for (Batch b; epoch->next(&b);) {
    if (b.targets.numel() == 0) continue;  // an empty shard of a partial last batch
    const auto pred = argmax(model(b.inputs), 1).to_vector<int64_t>();
    const auto truth = b.targets.to_vector<int64_t>();
    TG_CHECK(pred.size() == truth.size(), "classification_accuracy: ", pred.size(), " predictions for ", truth.size(),
             " targets");
    for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
    seen += static_cast<int64_t>(pred.size());
  }
  model.train(was_training);
  return {correct, seen};
}

double classification_accuracy(nn::Module& model, const DataLoader& loader) {
  const ClassificationCounts c = count_correct(model, loader);
  return c.total ? static_cast<double>(c.correct) / c.total : 0.0;
}

double next_token_loss(nn::Module& model, const std::vector<int64_t>& tokens, int64_t context, int64_t max_windows) {
  TG_CHECK(context > 0 && max_windows >= 0, "next_token_loss: context ", context, " must be positive and max_windows ",
           max_windows, " not negative");
  int64_t windows = (static_cast<int64_t>(tokens.size()) - 1) / context;
  if (max_windows > 0) windows = std::min(windows, max_windows);
  TG_CHECK(windows > 0, "next_token_loss: ", tokens.size(), " tokens, fewer than one window of ", context, " + 1");
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double nats = 0;
  constexpr int64_t kWindowsPerBatch = 64;
  for (int64_t first = 0; first < windows; first += kWindowsPerBatch) {
    const int64_t n = std::min(kWindowsPerBatch, windows - first);
    std::vector<int64_t> x, y;
    for (int64_t w = first; w < first + n; ++w) {
      x.insert(x.end(), tokens.begin() + w * context, tokens.begin() + (w + 1) * context);
      y.insert(y.end(), tokens.begin() + w * context + 1, tokens.begin() + (w + 1) * context + 1);
    }
    const Tensor logits = model(tensor(x, {n, context}, kInt64));
    TG_CHECK(logits.dim() == 3 && logits.size(0) == n && logits.size(1) == context, "next_token_loss: the model gave ",
             shape_str(logits.shape()), " for ids [", n, ", ", context, "], expected [", n, ", ", context,
             ", vocabulary]");
    const Tensor loss = cross_entropy(logits.reshape({n * context, logits.size(2)}), tensor(y, {n * context}, kInt64));
    nats += loss.item() * static_cast<double>(n * context);
  }
  model.train(was_training);
  return nats / static_cast<double>(windows * context);
}

}  // namespace tg::io
