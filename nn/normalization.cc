// tapegrad/nn/normalization.cc: the batch, layer, group, instance and RMS normalization layers.
#include "nn/normalization.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "nn/init.h"
#include "ops/elementwise.h"

namespace tg::nn {

BatchNorm::BatchNorm(const char* type_name, BatchNormOptions o, std::vector<int64_t> allowed_ranks)
    : Module(type_name), options(o), allowed_ranks_(std::move(allowed_ranks)) {
  TG_CHECK(o.num_features > 0, type_name, ": num_features must be positive, got ", o.num_features);
  if (o.affine) {
    weight = register_parameter("weight", ones({o.num_features}, o.dtype));
    bias = register_parameter("bias", zeros({o.num_features}, o.dtype));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({o.num_features}, o.dtype));
    running_var = register_buffer("running_var", ones({o.num_features}, o.dtype));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

void BatchNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight), init::zeros_(bias);
  if (running_mean.defined()) {
    init::zeros_(running_mean), init::ones_(running_var), init::zeros_(num_batches_tracked);
  }
}

Tensor BatchNorm::forward(const Tensor& input) {
  TG_CHECK(std::find(allowed_ranks_.begin(), allowed_ranks_.end(), input.dim()) != allowed_ranks_.end(), type_name(),
           ": expected a ", absl::StrJoin(allowed_ranks_, " or "), "-d input, got ", shape_str(input.shape()));
  TG_CHECK(input.size(1) == options.num_features, type_name(), ": input ", shape_str(input.shape()), " has ",
           input.size(1), " channels, expected ", options.num_features);
  const bool use_batch_stats = is_training() || !options.track_running_stats;
  if (is_training() && options.track_running_stats) {
    // Written directly, like the row's running-statistics update: state, not a traced op.
    ops::add_into(num_batches_tracked.data(), ops::Array::scalar(1, kInt64));
  }
  // Without track_running_stats the running tensors are undefined: batch statistics, no update.
  return batch_norm(input, running_mean, running_var, weight, bias, use_batch_stats, options.momentum, options.eps);
}

std::string BatchNorm::extra_repr() const {
  return absl::StrCat(options.num_features, ", eps=", options.eps, ", momentum=", options.momentum,
                      ", affine=", options.affine ? "true" : "false",
                      ", track_running_stats=", options.track_running_stats ? "true" : "false");
}

LayerNorm::LayerNorm(LayerNormOptions o) : Module("LayerNorm"), options(o) {
  TG_CHECK(!o.normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  for (int64_t d : o.normalized_shape) {
    TG_CHECK(d > 0, "LayerNorm: normalized_shape ", shape_str(o.normalized_shape), " must be positive");
  }
  if (o.elementwise_affine) {
    weight = register_parameter("weight", ones(o.normalized_shape, o.dtype));
    bias = register_parameter("bias", zeros(o.normalized_shape, o.dtype));
  }
}

void LayerNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight), init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& input) { return layer_norm(input, options.normalized_shape, weight, bias, options.eps); }

std::string LayerNorm::extra_repr() const {
  return absl::StrCat(shape_str(options.normalized_shape), ", eps=", options.eps,
                      ", elementwise_affine=", options.elementwise_affine ? "true" : "false");
}

GroupNorm::GroupNorm(GroupNormOptions o) : Module("GroupNorm"), options(o) {
  TG_CHECK(o.num_groups > 0 && o.num_channels > 0 && o.num_channels % o.num_groups == 0, "GroupNorm: num_channels ",
           o.num_channels, " must be a positive multiple of num_groups ", o.num_groups);
  if (o.affine) {
    weight = register_parameter("weight", ones({o.num_channels}, o.dtype));
    bias = register_parameter("bias", zeros({o.num_channels}, o.dtype));
  }
}

void GroupNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight), init::zeros_(bias);
}

Tensor GroupNorm::forward(const Tensor& input) {
  TG_CHECK(input.dim() >= 2 && input.size(1) == options.num_channels, "GroupNorm: input ", shape_str(input.shape()),
           " should be [N, ", options.num_channels, ", *]");
  return group_norm(input, options.num_groups, weight, bias, options.eps);
}

std::string GroupNorm::extra_repr() const {
  return absl::StrCat(options.num_groups, ", ", options.num_channels, ", eps=", options.eps,
                      ", affine=", options.affine ? "true" : "false");
}

InstanceNorm::InstanceNorm(const char* type_name, InstanceNormOptions o, int64_t rank)
    : Module(type_name), options(o), rank_(rank) {
  TG_CHECK(o.num_features > 0, type_name, ": num_features must be positive, got ", o.num_features);
  if (o.affine) {
    weight = register_parameter("weight", ones({o.num_features}, o.dtype));
    bias = register_parameter("bias", zeros({o.num_features}, o.dtype));
  }
}

Tensor InstanceNorm::forward(const Tensor& input) {
  // A batched [N, C, *] input or an unbatched [C, *] one.
  TG_CHECK((input.dim() == rank_ || input.dim() == rank_ - 1) && input.size(input.dim() - rank_ + 1) == options.num_features,
           type_name(), ": input ", shape_str(input.shape()), " should be ", rank_, "-d (or ", rank_ - 1, "-d) with ",
           options.num_features, " channels");
  if (input.dim() == rank_ - 1) return squeeze(instance_norm(unsqueeze(input, 0), weight, bias, options.eps), 0);
  return instance_norm(input, weight, bias, options.eps);
}

std::string InstanceNorm::extra_repr() const {
  return absl::StrCat(options.num_features, ", eps=", options.eps, ", affine=", options.affine ? "true" : "false");
}

RMSNorm::RMSNorm(RMSNormOptions o) : Module("RMSNorm"), options(o) {
  TG_CHECK(!o.normalized_shape.empty(), "RMSNorm: normalized_shape must not be empty");
  if (o.elementwise_affine) weight = register_parameter("weight", ones(o.normalized_shape, o.dtype));
}

std::string RMSNorm::extra_repr() const {
  return absl::StrCat(shape_str(options.normalized_shape), options.eps ? absl::StrCat(", eps=", *options.eps) : "",
                      ", elementwise_affine=", options.elementwise_affine ? "true" : "false");
}

}  // namespace tg::nn
