// tapegrad/io/optimize_for_inference.h: a frozen, fused copy of a model for inference, as
// torch.jit.optimize_for_inference gives in PyTorch.
//
//   model->eval();
//   auto fast = tg::io::optimize_for_inference(*model, example_batch).value();
//   tg::NoGradGuard no_grad;
//   Tensor y = fast->forward(x);   // same values, to float rounding
//
// The model is traced on the example (io/trace.h: the batch dimension stays free) and its graph
// goes through the ONNX importer's inference fusions (Note [Inference fusion on import] and Note
// [Kernel layout on import] in io/onnx_import.cc): batch norms folded into their convolutions,
// residual Adds and ReLUs in the convolutions' epilogues, convolution chains kept in the kernel's
// layout, attention and GELU node chains as single ops. The copy is frozen: its weights are
// constants taken at the call (later changes to the model are not seen), it runs in eval mode,
// and it is for inference (its forward while recording gradients runs the unfused graph, correct
// but slower). Models the tracer or the exporter cannot express are refused with their reason.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "io/onnx_import.h"
#include "nn/module.h"

namespace tg::io {

// `model` must be in eval mode (call eval() first, as for torch.jit.freeze); example_input is a
// batch of the inputs it will get.
absl::StatusOr<std::shared_ptr<OnnxModule>> optimize_for_inference(nn::Module& model, const Tensor& example_input);

}  // namespace tg::io
