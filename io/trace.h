// tapegrad/io/trace.h: graph capture by tracing. The module runs once on an example input while
// an OpObserver records every op row applied (kind, attributes, inputs, output); the module's
// parameters and buffers become named graph tensors, anything else captured becomes a constant.
// Like torch.jit.trace / torch.onnx.export, data-dependent control flow is frozen at trace time:
// the graph holds the ops this one input took. The batch dimension is symbolic: ops record
// batch-independent attributes (e.g. flatten's dims), so the graph runs at any batch size.
#pragma once

#include "absl/status/statusor.h"
#include "io/proto/tapegrad.pb.h"
#include "nn/module.h"

namespace tg::io {

// Runs module(example_input) without recording gradients and returns its graph. The module is left
// as it was: a forward in training mode updates batch-norm statistics and draws dropout masks,
// and both the buffers and the default generator are restored afterwards (the graph holds the
// buffers' values from before the call).
absl::StatusOr<proto::GraphProto> trace(nn::Module& module, const Tensor& example_input);

}  // namespace tg::io
