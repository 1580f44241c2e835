// tapegrad/nn/normalization.h: BatchNorm1d ([N, C] or [N, C, L]) and BatchNorm2d ([N, C, H, W])
// with learnable affine parameters and running statistics (buffers running_mean, running_var,
// num_batches_tracked), PyTorch defaults: eps 1e-5, momentum 0.1; LayerNorm and RMSNorm over
// trailing dims; GroupNorm; InstanceNorm1d/2d (batch statistics; affine off by default).
#pragma once

#include <optional>

#include "autograd/functions.h"
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

struct GroupNormOptions {
  int64_t num_groups, num_channels;
  double eps = 1e-5;
  bool affine = true;
  DType dtype = kFloat32;
};

class GroupNorm : public Module {
 public:
  explicit GroupNorm(GroupNormOptions options);
  GroupNorm(int64_t num_groups, int64_t num_channels) : GroupNorm(GroupNormOptions{num_groups, num_channels}) {}
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  std::string extra_repr() const override;
  const GroupNormOptions options;
  Tensor weight, bias;
};

// Without running statistics (PyTorch's default, track_running_stats=False).
struct InstanceNormOptions {
  int64_t num_features;
  double eps = 1e-5;
  bool affine = false;
  DType dtype = kFloat32;
};

class InstanceNorm : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const InstanceNormOptions options;
  Tensor weight, bias;

 protected:
  InstanceNorm(const char* type_name, InstanceNormOptions options, int64_t rank);

 private:
  int64_t rank_;  // of a batched input
};

class InstanceNorm1d : public InstanceNorm {
 public:
  explicit InstanceNorm1d(InstanceNormOptions options) : InstanceNorm("InstanceNorm1d", options, 3) {}
  explicit InstanceNorm1d(int64_t num_features) : InstanceNorm1d(InstanceNormOptions{num_features}) {}
};

class InstanceNorm2d : public InstanceNorm {
 public:
  explicit InstanceNorm2d(InstanceNormOptions options) : InstanceNorm("InstanceNorm2d", options, 4) {}
  explicit InstanceNorm2d(int64_t num_features) : InstanceNorm2d(InstanceNormOptions{num_features}) {}
};

struct RMSNormOptions {
  Shape normalized_shape;
  std::optional<double> eps = std::nullopt;  // the dtype's epsilon
  bool elementwise_affine = true;            // weight (ones) of normalized_shape
  DType dtype = kFloat32;
};

class RMSNorm : public Module {
 public:
  explicit RMSNorm(RMSNormOptions options);
  explicit RMSNorm(IntArrayRef normalized_shape) : RMSNorm(RMSNormOptions{normalized_shape.vec()}) {}
  Tensor forward(const Tensor& input) override { return rms_norm(input, options.normalized_shape, weight, options.eps); }
  std::string extra_repr() const override;
  const RMSNormOptions options;
  Tensor weight;
};

}  // namespace tg::nn
