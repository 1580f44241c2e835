// tapegrad/nn/loss.h: loss modules wrapping the loss functions of autograd/functions.h.
//   tg::nn::CrossEntropyLoss criterion;   auto loss = criterion(logits, labels);
#pragma once

#include "autograd/functions.h"
#include "nn/module.h"

namespace tg::nn {

class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(Reduction reduction = Reduction::kMean, double label_smoothing = 0.0,
                            int64_t ignore_index = -100)
      : Module("CrossEntropyLoss"), reduction(reduction), label_smoothing(label_smoothing), ignore_index(ignore_index) {}
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return cross_entropy(input, target, reduction, label_smoothing, ignore_index);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const double label_smoothing;
  const int64_t ignore_index;
};

class NLLLoss : public Module {
 public:
  explicit NLLLoss(Reduction reduction = Reduction::kMean, int64_t ignore_index = -100)
      : Module("NLLLoss"), reduction(reduction), ignore_index(ignore_index) {}
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return nll_loss(input, target, reduction, ignore_index);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const int64_t ignore_index;
};

class MSELoss : public Module {
 public:
  explicit MSELoss(Reduction reduction = Reduction::kMean) : Module("MSELoss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return mse_loss(input, target, reduction); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
};

class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(Reduction reduction = Reduction::kMean)
      : Module("BCEWithLogitsLoss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return binary_cross_entropy_with_logits(input, target, reduction);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
};

}  // namespace tg::nn
