// tapegrad/io/optimize_for_inference.cc: see optimize_for_inference.h.
#include "io/optimize_for_inference.h"

#include <string>

#include "io/onnx_export.h"

namespace tg::io {

absl::StatusOr<std::shared_ptr<OnnxModule>> optimize_for_inference(nn::Module& model, const Tensor& example_input) {
  if (model.is_training()) {
    return absl::FailedPreconditionError(
        "optimize_for_inference: the model is in training mode; call eval() first (batch norm and dropout would "
        "be frozen in their training behaviour)");
  }
  absl::StatusOr<onnx::ModelProto> graph = to_onnx(model, example_input);
  if (!graph.ok()) {
    return absl::Status(graph.status().code(), "optimize_for_inference: " + std::string(graph.status().message()));
  }
  std::string bytes;
  if (!graph->SerializeToString(&bytes)) return absl::InternalError("optimize_for_inference: cannot serialize the graph");
  absl::StatusOr<OnnxModel> imported = parse_onnx(bytes, "optimize_for_inference(" + model.type_name() + ")",
                                                  {.freeze_all = true, .fuse_for_inference = true});
  if (!imported.ok()) return imported.status();
  imported->module->eval();
  return imported->module;
}

}  // namespace tg::io
