// tapegrad/autograd/node.cc: tape nodes, saved values and leaf accumulation.
#include "autograd/node.h"

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "ops/elementwise.h"

namespace tg {

namespace {

// Stands in for the backward of a gradient that was computed with saved constants: reaching it
// in a further backward means a higher-order derivative the op does not provide.
class NotDoubleDifferentiable : public Node {
 public:
  explicit NotDoubleDifferentiable(std::string op) : op_(std::move(op)) {}
  std::string name() const override { return absl::StrCat(op_, "_backward"); }
  std::vector<Tensor> apply(const Tensor&) override {
    throw Error(absl::StrCat(op_, ": double backward is not supported (its backward uses saved constants); ",
                             "differentiate through it only once"));
  }

 private:
  std::string op_;
};

}  // namespace

void check_unmodified(const ops::Array& array, uint64_t saved_version, const std::string& who,
                      absl::FunctionRef<std::string()> what) {
  const ops::Storage& storage = *array.storage();
  TG_CHECK(storage.version() == saved_version, who, ": ", what(), " was modified by the in-place operation ",
           storage.last_writer(), " after it was saved for backward (it is at version ", storage.version(),
           ", saved at version ", saved_version, "); use the out-of-place operation, or clone() the tensor ",
           "before modifying it");
}

void check_not_inference(const Tensor& t, const std::string& who, absl::FunctionRef<std::string()> what) {
  TG_CHECK(!t.impl()->inference, who, ": ", what(), " is an inference tensor (made under tg::InferenceMode), which ",
           "cannot be saved for backward; make it outside InferenceMode (or clone() it there)");
}

SavedTensor SavedTensor::input(const Tensor& t) {
  SavedTensor s;
  s.input_ = t;
  s.version_ = t.data().storage()->version();
  return s;
}

SavedTensor SavedTensor::output(const ops::Array& data, const std::shared_ptr<Node>& producer) {
  SavedTensor s;
  s.output_data_ = data;
  s.producer_ = producer;
  s.version_ = data.storage()->version();
  return s;
}

Tensor SavedTensor::unpack(const std::string& saver) const {
  check_unmodified(array(), version_, saver, [&] {
    return absl::StrCat("a tensor its backward needs (", input_.defined() ? "an input" : "its output", ", ",
                        dtype_name(array().dtype()), " ", shape_str(array().shape()), ")");
  });
  if (input_.defined()) return input_;
  Tensor t(output_data_);
  if (auto producer = producer_.lock()) {
    t.impl()->requires_grad = true;
    t.impl()->grad_fn = producer;
  }
  return t;
}

void SavedTensor::reset() {
  input_ = Tensor();
  output_data_ = ops::Array();
  producer_.reset();
}

std::string OpNode::name() const { return op_->name; }

std::vector<Tensor> OpNode::apply(const Tensor& grad_output) {
  TG_CHECK(!released_, name(), ": trying to backward through the graph a second time (or directly access ",
           "saved tensors after they have been freed); pass retain_graph=true to the first backward");
  BackwardContext ctx(*this, grad_output);
  std::vector<Tensor> grads = op_->backward(ctx);
  TG_CHECK(grads.size() == next_edges.size(), name(), ": backward returned ", grads.size(),
           " gradients for ", next_edges.size(), " inputs");
  if (!op_->double_differentiable && GradMode::is_enabled()) {
    for (Tensor& g : grads) {
      if (g.defined() && g.requires_grad()) {
        Tensor wrapped(g.data());
        wrapped.impl()->requires_grad = true;
        wrapped.impl()->grad_fn = std::make_shared<NotDoubleDifferentiable>(name());
        g = wrapped;
      }
    }
  }
  return grads;
}

void OpNode::release_saved() {
  for (auto& s : saved_inputs) s.reset();
  saved_output.reset();
  extras.clear();
  released_ = true;
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_in) {
  accumulate(grad_in);
  return {};
}

namespace {
// Whether `grad` (a gradient the engine handed over) can become a leaf's .grad() as it is: no
// other handle to it or to the base it views, nothing recorded on it, and its array dense and
// contiguous from the start of its storage to the end (what clone() would give).
bool unreachable_elsewhere(const Tensor& grad) {
  if (grad.use_count() != 1) return false;
  const std::shared_ptr<TensorImpl> impl = grad.impl();
  if (impl->requires_grad || impl->grad_fn) return false;
  const ops::Array& a = grad.data();
  if (!a.is_contiguous() || a.offset() != 0 || a.storage()->nbytes() != a.numel() * dtype_size(a.dtype()))
    return false;
  if (!impl->view_base) return a.storage().use_count() == 1;
  // A view of a base that only this view keeps alive (the transposes of linear's weight gradient).
  return impl->view_base.use_count() == 1 && !impl->view_base->view_base && a.storage().use_count() == 2 &&
         impl->view_base->data.storage() == a.storage();
}
}  // namespace

void AccumulateGrad::accumulate(Tensor grad) {
  for (const auto& hook : leaf_->hooks) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) grad = replaced;
  }
  if (!grad.defined()) return;
  if (!leaf_->grad.defined() && !GradMode::is_enabled() && unreachable_elsewhere(grad)) {
    leaf_->grad = Tensor(grad.data());  // a new handle; the view chain dies with `grad`
  } else {
    leaf_->grad = accumulate_grad(leaf_->grad, grad, GradSum::kStored);
  }
  if (!leaf_->post_accumulate_hooks.empty()) {
    const Tensor leaf(leaf_);
    for (const auto& hook : leaf_->post_accumulate_hooks) hook(leaf);
  }
}

Tensor accumulate_grad(const Tensor& sum, const Tensor& incoming, GradSum kind) {
  if (GradMode::is_enabled()) return sum.defined() ? add(sum, incoming) : incoming;
  if (!sum.defined()) return kind == GradSum::kStored ? Tensor(incoming.data().clone()) : incoming;
  if (kind == GradSum::kStored && !sum.requires_grad()) {
    ops::add_into(sum.data(), incoming.data());
    return sum;
  }
  return Tensor(ops::binary(ops::BinaryOp::kAdd, sum.data(), incoming.data()));
}

void record_node(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, const Tensor& result) {
  node->next_edges.reserve(inputs.size());
  node->input_shapes.reserve(inputs.size());
  node->input_dtypes.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next_edges.push_back(gradient_edge(t));
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    node->input_dtypes.push_back(t.defined() ? t.dtype() : kFloat32);
  }
  node->output_shape = result.shape();
  node->output_dtype = result.dtype();
  result.impl()->requires_grad = true;
  result.impl()->grad_fn = node;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  const auto& impl = t.impl();
  if (impl->grad_fn) return impl->grad_fn;
  if (auto acc = impl->grad_accumulator.lock()) return acc;
  auto acc = std::make_shared<AccumulateGrad>(impl);
  acc->output_shape = t.shape();
  acc->output_dtype = t.dtype();
  impl->grad_accumulator = acc;
  return acc;
}

}  // namespace tg
