// tapegrad/io/onnx_export.h: export of a traced graph to a standard ONNX ModelProto (opset 13,
// batch_norm uses its running statistics; dropout is Dropout with its training flag as an input).
// Each node is written as its op row's ONNX mapping (OpDef::onnx); a row without one is named
// with the reason it has none (OpDef::not_onnx).
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
