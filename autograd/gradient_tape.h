// tapegrad/autograd/gradient_tape.h: a Keras/TensorFlow-style scope for users coming from
// tf.GradientTape. Recording is switched on inside the scope; tape.gradient() differentiates.
//   tg::autograd::GradientTape tape;
//   tape.watch(x);                               // x need not be created with requires_grad
//   auto y = tg::sum(x * x);
//   auto dx = tape.gradient(y, {x})[0];          // 2 * x
// Differences from TensorFlow: tapegrad records every op on tensors that require grad even
// outside a tape (like PyTorch); an unconnected source yields an undefined tensor (TF: None).
#pragma once

#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/tensor.h"

namespace tg::autograd {

class GradientTape {
 public:
  // A non-persistent tape allows one gradient() call; a persistent one keeps its graph.
  explicit GradientTape(bool persistent = false);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Makes a leaf tensor require grad for the tape's lifetime (restored afterwards).
  void watch(const Tensor& t);
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Tensor>& sources);
  Tensor gradient(const Tensor& target, const Tensor& source) { return gradient(target, std::vector<Tensor>{source})[0]; }

 private:
  bool persistent_;
  bool used_ = false;
  AutoGradMode recording_{true};
  std::vector<Tensor> watched_;
};

}  // namespace tg::autograd
