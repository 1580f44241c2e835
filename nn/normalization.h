// tapegrad/nn/normalization.h: BatchNorm1d ([N, C] or [N, C, L]) and BatchNorm2d ([N, C, H, W])
// with learnable affine parameters and running statistics (buffers running_mean, running_var,
// num_batches_tracked), PyTorch defaults: eps 1e-5, momentum 0.1; LayerNorm over trailing dims.
#pragma once

#include "nn/module.h"

namespace tg::nn {

struct BatchNormOptions {
  int64_t num_features;
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
  DType dtype = kFloat32;
};

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  std::string extra_repr() const override;

  const BatchNormOptions options;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 protected:
  BatchNorm(const char* type_name, BatchNormOptions options, std::vector<int64_t> allowed_ranks);

 private:
  std::vector<int64_t> allowed_ranks_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(BatchNormOptions options) : BatchNorm("BatchNorm1d", options, {2, 3}) {}
  explicit BatchNorm1d(int64_t num_features) : BatchNorm1d(BatchNormOptions{num_features}) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(BatchNormOptions options) : BatchNorm("BatchNorm2d", options, {4}) {}
  explicit BatchNorm2d(int64_t num_features) : BatchNorm2d(BatchNormOptions{num_features}) {}
};

struct LayerNormOptions {
  Shape normalized_shape;  // the trailing dims normalized together
  double eps = 1e-5;
  bool elementwise_affine = true;  // weight (ones) and bias (zeros) of normalized_shape
  DType dtype = kFloat32;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(LayerNormOptions options);
  explicit LayerNorm(IntArrayRef normalized_shape) : LayerNorm(LayerNormOptions{normalized_shape.vec()}) {}
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  std::string extra_repr() const override;

  const LayerNormOptions options;
  Tensor weight, bias;
};

}  // namespace tg::nn
