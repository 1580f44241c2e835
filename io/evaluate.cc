// tapegrad/io/evaluate.cc: accuracy evaluation.
#include "io/evaluate.h"

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

}  // namespace tg::io
