// tapegrad/io/onnx_export.h: export of a traced graph to a standard ONNX ModelProto (opset 13,
// inference semantics: dropout becomes Identity, batch_norm uses its running statistics).
// Supported ops: conv2d, relu, leaky_relu, sigmoid, tanh, max_pool2d, avg_pool2d, matmul,
// permute, flatten, reshape, add, sub, mul, div, pow, neg, exp, log, sqrt, abs, clamp, softmax,
// log_softmax, dropout, batch_norm. Any other op gives an error naming it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "io/proto/tapegrad.pb.h"
#include "nn/module.h"
#include "onnx/onnx_pb.h"

namespace tg::io {

inline constexpr int kOnnxOpset = 13;

absl::StatusOr<onnx::ModelProto> to_onnx(const proto::GraphProto& graph, const std::string& graph_name = "tapegrad");
// Traces `module` on example_input (in its current mode; call eval() first) and exports it.
absl::StatusOr<onnx::ModelProto> to_onnx(nn::Module& module, const Tensor& example_input);
// Exports and checks the model with onnx::checker, then writes it atomically.
absl::Status save_onnx(const onnx::ModelProto& model, const std::string& path);

}  // namespace tg::io
