// tapegrad/autograd/anomaly_mode.h: anomaly detection (torch.autograd.detect_anomaly). While a
// DetectAnomalyGuard is alive on a thread, every op's forward output and every gradient computed
// by backward are checked for NaN/Inf; the first one throws tg::Error naming the op, its input
// shapes and, for backward, the forward op whose gradient went bad. Costs a scan of every value.
//   { tg::autograd::DetectAnomalyGuard detect; loss = model(x); loss.backward(); }
#pragma once

#include <string>
#include <vector>

#include "autograd/attributes.h"
#include "autograd/tensor.h"

namespace tg {
class Node;
}

namespace tg::autograd {

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;
  static bool is_enabled();

 private:
  bool previous_;
};

// While anomaly mode runs a node's backward, the forward op it belongs to (for error messages of
// ops the backward formula runs); empty outside backward.
const std::string& current_backward();
class CurrentBackwardScope {
 public:
  explicit CurrentBackwardScope(std::string description);
  ~CurrentBackwardScope();

 private:
  std::string previous_;
};

// Index of the first NaN/Inf element of a floating array, or -1.
int64_t first_non_finite(const ops::Array& a);

// The checks anomaly mode runs (callers test is_enabled() first). Each throws tg::Error:
// forward: `out` of op `op_name` holds NaN/Inf (naming inputs, attributes, whether the inputs were
// already non-finite, and the backward being computed if any);
// backward: a gradient `node` produced holds NaN/Inf.
void check_forward(const std::string& op_name, const std::vector<Tensor>& inputs, const Attrs& attrs,
                   const ops::Array& out);
void check_backward(const Node& node, const std::vector<Tensor>& grads);
// "'conv2d' (recorded in forward with inputs [..], [..]; stride=...)".
std::string describe_node(const Node& node);

}  // namespace tg::autograd
