// tapegrad/autograd/engine.h: reverse-mode execution of the tape.
//   tg::autograd::backward({loss});                       // accumulates into leaves' .grad()
//   auto g = tg::autograd::grad({y}, {x}, {}, true, true);  // dy/dx with a graph, for d2y/dx2
#pragma once

#include <optional>
#include <vector>

#include "autograd/tensor.h"

namespace tg::autograd {

// Accumulates d(sum of roots . grad_roots)/d(leaf) into every reachable leaf's .grad().
// grad_roots may be empty (each root must then have one element) or hold one entry per root.
// With create_graph, a leaf's .grad() keeps a graph that references the leaf: a reference cycle
// (as in PyTorch). Prefer grad() for higher-order work, or reset with set_grad(Tensor()).
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots = {},
              bool retain_graph = false, bool create_graph = false);

// Returns d(sum of outputs . grad_outputs)/d(input) for each input without touching .grad().
// retain_graph defaults to create_graph. An input the outputs do not depend on is an error unless
// allow_unused, in which case its gradient is undefined.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

}  // namespace tg::autograd
