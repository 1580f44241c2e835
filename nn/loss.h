// tapegrad/nn/loss.h: loss modules wrapping the loss functions of autograd/functions.h.
//   tg::nn::CrossEntropyLoss criterion;   auto loss = criterion(logits, labels);
#pragma once

#include "autograd/functions.h"
#include "nn/module.h"

namespace tg::nn {

// A class weight (one per class) is registered as the buffer "weight", as in PyTorch.
class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(Reduction reduction = Reduction::kMean, double label_smoothing = 0.0,
                            int64_t ignore_index = -100)
      : CrossEntropyLoss(Tensor(), reduction, label_smoothing, ignore_index) {}
  CrossEntropyLoss(const Tensor& weight, Reduction reduction, double label_smoothing = 0.0, int64_t ignore_index = -100)
      : Module("CrossEntropyLoss"), reduction(reduction), label_smoothing(label_smoothing), ignore_index(ignore_index) {
    if (weight.defined()) this->weight = register_buffer("weight", weight);
  }
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return cross_entropy(input, target, weight, reduction, label_smoothing, ignore_index);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const double label_smoothing;
  const int64_t ignore_index;
  Tensor weight;
};

class NLLLoss : public Module {
 public:
  explicit NLLLoss(Reduction reduction = Reduction::kMean, int64_t ignore_index = -100)
      : NLLLoss(Tensor(), reduction, ignore_index) {}
  NLLLoss(const Tensor& weight, Reduction reduction, int64_t ignore_index = -100)
      : Module("NLLLoss"), reduction(reduction), ignore_index(ignore_index) {
    if (weight.defined()) this->weight = register_buffer("weight", weight);
  }
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return nll_loss(input, target, weight, reduction, ignore_index);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const int64_t ignore_index;
  Tensor weight;
};

class MSELoss : public Module {
 public:
  explicit MSELoss(Reduction reduction = Reduction::kMean) : Module("MSELoss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return mse_loss(input, target, reduction); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
};

class BCELoss : public Module {
 public:
  explicit BCELoss(const Tensor& weight = {}, Reduction reduction = Reduction::kMean) : Module("BCELoss"), reduction(reduction) {
    if (weight.defined()) this->weight = register_buffer("weight", weight);
  }
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return binary_cross_entropy(input, target, weight, reduction);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  Tensor weight;
};

class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(Reduction reduction = Reduction::kMean) : BCEWithLogitsLoss(Tensor(), Tensor(), reduction) {}
  BCEWithLogitsLoss(const Tensor& weight, const Tensor& pos_weight, Reduction reduction = Reduction::kMean)
      : Module("BCEWithLogitsLoss"), reduction(reduction) {
    if (weight.defined()) this->weight = register_buffer("weight", weight);
    if (pos_weight.defined()) this->pos_weight = register_buffer("pos_weight", pos_weight);
  }
  Tensor forward(const Tensor& input, const Tensor& target) const {
    return binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction);
  }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  Tensor weight, pos_weight;
};

class L1Loss : public Module {
 public:
  explicit L1Loss(Reduction reduction = Reduction::kMean) : Module("L1Loss"), reduction(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return l1_loss(input, target, reduction); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
};

class SmoothL1Loss : public Module {
 public:
  explicit SmoothL1Loss(Reduction reduction = Reduction::kMean, double beta = 1.0)
      : Module("SmoothL1Loss"), reduction(reduction), beta(beta) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return smooth_l1_loss(input, target, reduction, beta); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const double beta;
};

class HuberLoss : public Module {
 public:
  explicit HuberLoss(Reduction reduction = Reduction::kMean, double delta = 1.0)
      : Module("HuberLoss"), reduction(reduction), delta(delta) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return huber_loss(input, target, reduction, delta); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const double delta;
};

class KLDivLoss : public Module {
 public:
  explicit KLDivLoss(Reduction reduction = Reduction::kMean, bool log_target = false)
      : Module("KLDivLoss"), reduction(reduction), log_target(log_target) {}
  Tensor forward(const Tensor& input, const Tensor& target) const { return kl_div(input, target, reduction, log_target); }
  Tensor operator()(const Tensor& input, const Tensor& target) const { return forward(input, target); }
  const Reduction reduction;
  const bool log_target;
};

class CTCLoss : public Module {
 public:
  explicit CTCLoss(int64_t blank = 0, Reduction reduction = Reduction::kMean, bool zero_infinity = false)
      : Module("CTCLoss"), blank(blank), reduction(reduction), zero_infinity(zero_infinity) {}
  Tensor forward(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                 const Tensor& target_lengths) const {
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity);
  }
  Tensor operator()(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                    const Tensor& target_lengths) const {
    return forward(log_probs, targets, input_lengths, target_lengths);
  }
  const int64_t blank;
  const Reduction reduction;
  const bool zero_infinity;
};

class MarginRankingLoss : public Module {
 public:
  explicit MarginRankingLoss(double margin = 0.0, Reduction reduction = Reduction::kMean)
      : Module("MarginRankingLoss"), margin(margin), reduction(reduction) {}
  Tensor forward(const Tensor& input1, const Tensor& input2, const Tensor& target) const {
    return margin_ranking_loss(input1, input2, target, margin, reduction);
  }
  Tensor operator()(const Tensor& a, const Tensor& b, const Tensor& target) const { return forward(a, b, target); }
  const double margin;
  const Reduction reduction;
};

class TripletMarginLoss : public Module {
 public:
  explicit TripletMarginLoss(double margin = 1.0, double p = 2.0, double eps = 1e-6, bool swap = false,
                             Reduction reduction = Reduction::kMean)
      : Module("TripletMarginLoss"), margin(margin), p(p), eps(eps), swap(swap), reduction(reduction) {}
  Tensor forward(const Tensor& anchor, const Tensor& positive, const Tensor& negative) const {
    return triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction);
  }
  Tensor operator()(const Tensor& a, const Tensor& p, const Tensor& n) const { return forward(a, p, n); }
  const double margin, p, eps;
  const bool swap;
  const Reduction reduction;
};

class CosineEmbeddingLoss : public Module {
 public:
  explicit CosineEmbeddingLoss(double margin = 0.0, Reduction reduction = Reduction::kMean)
      : Module("CosineEmbeddingLoss"), margin(margin), reduction(reduction) {}
  Tensor forward(const Tensor& input1, const Tensor& input2, const Tensor& target) const {
    return cosine_embedding_loss(input1, input2, target, margin, reduction);
  }
  Tensor operator()(const Tensor& a, const Tensor& b, const Tensor& target) const { return forward(a, b, target); }
  const double margin;
  const Reduction reduction;
};

}  // namespace tg::nn
