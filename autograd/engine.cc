// tapegrad/autograd/engine.cc: the backward pass. Nodes run in dependency order: a node runs once
// every node that feeds it a gradient has run, so each receives the full sum of its gradients.
// Note [Gradient accumulation]: a value used k times receives the sum of the k gradients, summed
// in the node's input buffer before its backward runs (and in .grad() across backward calls).
// Note [Slice gradients]: without create_graph, a slice node (select, narrow, chunk, split,
// unbind) adds its gradient straight into the region of its input's buffer, which the engine then
// owns (zeros made here, or a private copy of a gradient it was given), instead of running its
// backward, which makes a zero tensor of the whole input per slice: k slices of one tensor cost
// one full-size buffer, not k (a loop over the T steps of a sequence: O(T) instead of O(T^2)).
#include "autograd/engine.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autograd/anomaly_mode.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/op_table.h"
#include "ops/elementwise.h"

namespace tg::autograd {

namespace {

Tensor accumulate(const Tensor& a, const Tensor& b) { return accumulate_grad(a, b, GradSum::kTemporary); }

// Which nodes' incoming gradients grad() returns, and where to put them.
struct Capture {
  std::unordered_map<Node*, std::vector<size_t>> slots;
  std::vector<Tensor> grads;
};

void check_grad(const Node& node, size_t i, const Tensor& g) {
  if (!g.defined()) return;
  TG_CHECK(g.shape() == node.input_shapes[i], node.name(), ": backward produced a gradient of shape ",
           shape_str(g.shape()), " for input ", i, " of shape ", shape_str(node.input_shapes[i]));
  TG_CHECK(g.dtype() == node.input_dtypes[i], node.name(), ": backward produced a ", dtype_name(g.dtype()),
           " gradient for ", dtype_name(node.input_dtypes[i]), " input ", i);
}

// The slice node whose gradient goes straight into its input's buffer (Note [Slice gradients]),
// or null.
const OpNode* slice_to_accumulate(const Node& node, bool create_graph) {
  static const OpDef* const slice = find_op("slice");
  if (create_graph || autograd::DetectAnomalyGuard::is_enabled() || node.released()) return nullptr;
  const auto* op_node = dynamic_cast<const OpNode*>(&node);
  return op_node != nullptr && &op_node->op() == slice && node.next_edges.size() == 1 && node.next_edges[0]
             ? op_node
             : nullptr;
}

std::vector<Tensor> apply_node(Node& node, const Tensor& grad) {
  if (!autograd::DetectAnomalyGuard::is_enabled()) return node.apply(grad);
  autograd::CurrentBackwardScope scope(autograd::describe_node(node));
  return node.apply(grad);
}

void execute(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots, bool retain_graph,
             bool create_graph, Capture* capture) {
  TG_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(), "backward: got ", grad_roots.size(),
           " gradients for ", roots.size(), " tensors");
  std::unordered_map<Node*, Tensor> buffers;
  std::unordered_set<Node*> owned;  // buffers no one else holds: added into in place
  std::vector<std::shared_ptr<Node>> root_nodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    TG_CHECK(root.defined(), "backward: tensor ", i, " is undefined");
    TG_CHECK(root.requires_grad(), "backward: tensor ", i, " of shape ", shape_str(root.shape()),
             " does not require grad and has no grad_fn");
    Tensor g = grad_roots.empty() ? Tensor() : grad_roots[i];
    if (!g.defined()) {
      TG_CHECK(root.numel() == 1, "backward: grad can be implicitly created only for one-element outputs; ",
               "tensor ", i, " has shape ", shape_str(root.shape()), ", pass a gradient of that shape");
      g = ones_like(root);
    } else {
      TG_CHECK(g.shape() == root.shape(), "backward: gradient of shape ", shape_str(g.shape()),
               " for tensor of shape ", shape_str(root.shape()));
      TG_CHECK(g.dtype() == root.dtype(), "backward: gradient dtype ", dtype_name(g.dtype()),
               " differs from tensor dtype ", dtype_name(root.dtype()));
    }
    std::shared_ptr<Node> node = gradient_edge(root);
    buffers[node.get()] = accumulate(buffers[node.get()], g);
    root_nodes.push_back(node);
  }

  // Count, for every reachable node, how many edges from reachable nodes lead into it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (auto& n : root_nodes) {
    if (!seen[n.get()]) seen[n.get()] = true, stack.push_back(n.get());
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& next : n->next_edges) {
      if (!next) continue;
      ++dependencies[next.get()];
      if (!seen[next.get()]) seen[next.get()] = true, stack.push_back(next.get());
    }
  }

  AutoGradMode mode(create_graph);
  std::vector<Node*> ready;
  for (auto& n : root_nodes) {
    if (dependencies[n.get()] == 0 && std::find(ready.begin(), ready.end(), n.get()) == ready.end())
      ready.push_back(n.get());
  }
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad = std::move(buffers[node]);
    buffers.erase(node);
    owned.erase(node);
    for (const auto& hook : node->pre_hooks) {
      Tensor replaced = hook(grad);
      if (replaced.defined()) grad = replaced;
    }
    if (const OpNode* slice = slice_to_accumulate(*node, create_graph);
        slice != nullptr && (capture == nullptr || !capture->slots.count(node))) {
      Node* next = node->next_edges[0].get();
      if (grad.defined()) {
        Tensor& buffer = buffers[next];
        if (!owned.count(next)) {
          buffer = Tensor(buffer.defined() ? buffer.data().clone()
                                           : ops::Array::zeros(node->input_shapes[0], node->input_dtypes[0]));
          owned.insert(next);
        }
        const Attrs& a = slice->attrs();
        ops::add_into(buffer.data().slice(a.i("dim"), a.i("start"), a.i("end"), a.i("step")), grad.data());
      }
      if (!retain_graph) node->release_saved();
      if (--dependencies[next] == 0) ready.push_back(next);
      continue;
    }
    std::vector<Tensor> input_grads;
    if (capture != nullptr) {
      auto it = capture->slots.find(node);
      if (it != capture->slots.end()) {
        for (size_t slot : it->second) capture->grads[slot] = grad;
      }
      // grad() never writes .grad(): leaf accumulators are only capture points.
      if (dynamic_cast<AccumulateGrad*>(node) == nullptr) input_grads = apply_node(*node, grad);
    } else if (auto* leaf = dynamic_cast<AccumulateGrad*>(node)) {
      leaf->accumulate(std::move(grad));  // the engine's reference: a lone first gradient is kept, not copied
    } else {
      input_grads = apply_node(*node, grad);
    }
    if (autograd::DetectAnomalyGuard::is_enabled()) autograd::check_backward(*node, input_grads);
    if (!retain_graph) node->release_saved();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      Node* next = node->next_edges[i].get();
      if (next == nullptr) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        check_grad(*node, i, input_grads[i]);
        if (owned.count(next)) {
          ops::add_into(buffers[next].data(), input_grads[i].data());
        } else {
          buffers[next] = accumulate(buffers[next], input_grads[i]);
        }
      }
      if (--dependencies[next] == 0) ready.push_back(next);
    }
  }
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots, bool retain_graph,
              bool create_graph) {
  execute(roots, grad_roots, retain_graph || create_graph, create_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  Capture capture;
  capture.grads.resize(inputs.size());
  std::vector<std::shared_ptr<Node>> capture_nodes;  // keeps the keys of capture.slots alive
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "grad: input ", i,
             " does not require grad");
    capture_nodes.push_back(gradient_edge(inputs[i]));
    capture.slots[capture_nodes.back().get()].push_back(i);
  }
  execute(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, &capture);
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(allow_unused || capture.grads[i].defined(), "grad: input ", i, " of shape ",
             shape_str(inputs[i].shape()),
             " was not used in the graph of the outputs (pass allow_unused=true to get an undefined gradient)");
  }
  return capture.grads;
}

}  // namespace tg::autograd
