// tapegrad/autograd/anomaly_mode.cc: the per-thread anomaly flag and the non-finite scan.
#include "autograd/anomaly_mode.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autograd/node.h"

namespace tg::autograd {

namespace {
thread_local bool anomaly_enabled = false;
thread_local std::string current_backward_description;
}  // namespace

const std::string& current_backward() { return current_backward_description; }
CurrentBackwardScope::CurrentBackwardScope(std::string description) : previous_(current_backward_description) {
  current_backward_description = std::move(description);
}
CurrentBackwardScope::~CurrentBackwardScope() { current_backward_description = previous_; }

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(anomaly_enabled) { anomaly_enabled = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { anomaly_enabled = previous_; }
bool DetectAnomalyGuard::is_enabled() { return anomaly_enabled; }

int64_t first_non_finite(const ops::Array& a) {
  if (!a.defined() || !is_floating(a.dtype())) return -1;
  const ops::Array c = a.contiguous();
  return dispatch_floating(c.dtype(), "detect_anomaly", [&](auto tag) -> int64_t {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel(); ++i) {
      if (!std::isfinite(p[i])) return i;
    }
    return -1;
  });
}

void check_forward(const std::string& op_name, const std::vector<Tensor>& inputs, const Attrs& attrs,
                   const ops::Array& out) {
  const int64_t bad = first_non_finite(out);
  if (bad < 0) return;
  std::vector<std::string> shapes;
  bool inputs_finite = true;
  for (const Tensor& t : inputs) {
    shapes.push_back(t.defined() ? shape_str(t.shape()) : "none");
    if (t.defined() && first_non_finite(t.data()) >= 0) inputs_finite = false;
  }
  const ops::Array value = out.contiguous().to(kFloat64);
  throw Error(absl::StrCat("detect_anomaly: forward of '", op_name, "' (inputs ", absl::StrJoin(shapes, ", "),
                           attrs.items().empty() ? "" : "; ", attrs.to_string(), ") produced ",
                           std::to_string(value.data<double>()[bad]), " at element ", bad, " of output ",
                           shape_str(out.shape()),
                           inputs_finite ? " from finite inputs" : " (its inputs already held NaN/Inf)",
                           current_backward().empty() ? ""
                                                      : absl::StrCat(", while computing the backward of ", current_backward())));
}

std::string describe_node(const Node& node) {
  std::vector<std::string> shapes;
  for (const Shape& s : node.input_shapes) shapes.push_back(shape_str(s));
  const OpNode* op = dynamic_cast<const OpNode*>(&node);
  return absl::StrCat("'", node.name(), "' (recorded in forward with inputs ", absl::StrJoin(shapes, ", "),
                      op && !op->attrs().items().empty() ? "; " + op->attrs().to_string() : "", ")");
}

void check_backward(const Node& node, const std::vector<Tensor>& grads) {
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    const int64_t bad = first_non_finite(grads[i].data());
    if (bad < 0) continue;
    throw Error(absl::StrCat("detect_anomaly: backward of ", describe_node(node), " produced NaN/Inf at element ",
                             bad, " of the gradient for input ", i, " ", shape_str(grads[i].shape())));
  }
}

}  // namespace tg::autograd
