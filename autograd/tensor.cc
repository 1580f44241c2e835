// tapegrad/autograd/tensor.cc: Tensor handle methods, in-place updates, factories and printing.
#include "autograd/tensor.h"

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "autograd/inplace.h"
#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/print.h"
#include "ops/scalar.h"

namespace tg {

Tensor::Tensor(ops::Array data, bool requires_grad) : impl_(std::make_shared<TensorImpl>()) {
  impl_->data = std::move(data);
  impl_->inference = InferenceMode::is_enabled();
  if (requires_grad) set_requires_grad(true);
}

static const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl, const char* what) {
  TG_CHECK(impl != nullptr, what, ": tensor is undefined");
  return *impl;
}

const ops::Array& Tensor::data() const { return checked(impl_, "data").data; }
// A view's history is re-derived from its base after a write (Note [Views and in-place]).
static const TensorImpl& current(const std::shared_ptr<TensorImpl>& impl, const char* what) {
  checked(impl, what);
  if (impl->view_base) internal::refresh_view(*impl);
  return *impl;
}

bool Tensor::requires_grad() const { return impl_ != nullptr && current(impl_, "requires_grad").requires_grad; }
bool Tensor::is_leaf() const { return current(impl_, "is_leaf").grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return current(impl_, "grad_fn").grad_fn; }
Tensor Tensor::grad() const { return checked(impl_, "grad").grad; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  checked(impl_, "set_requires_grad");
  TG_CHECK(impl_->grad_fn == nullptr, "set_requires_grad: only leaf tensors can change requires_grad; ",
           "use detach() to get a leaf");
  TG_CHECK(!requires_grad || is_floating(dtype()), "set_requires_grad: only floating-point tensors can ",
           "require gradients, this one is ", dtype_name(dtype()));
  impl_->requires_grad = requires_grad;
  return *this;
}

void Tensor::set_grad(const Tensor& grad) const {
  checked(impl_, "set_grad");
  TG_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient ", shape_str(grad.shape()),
           " does not match tensor ", shape_str(shape()));
  impl_->grad = grad;
}

void Tensor::set_data(const Tensor& new_data) const {
  checked(impl_, "set_data");
  TG_CHECK(new_data.defined(), "set_data: the new data is undefined");
  TG_CHECK(is_leaf(), "set_data: only a leaf tensor's data can be replaced (this one has history ",
           impl_->grad_fn->name(), ")");
  TG_CHECK(!impl_->requires_grad || is_floating(new_data.dtype()), "set_data: a tensor that requires grad needs ",
           "floating data, got ", dtype_name(new_data.dtype()));
  impl_->data = new_data.data();
  impl_->view_base.reset();  // the new data is not a view of what this one was a view of
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, grad_output.defined() ? std::vector<Tensor>{grad_output} : std::vector<Tensor>{},
                     retain_graph, create_graph);
}

Tensor Tensor::detach() const { return Tensor(data()); }

void Tensor::register_hook(Hook hook) const {
  checked(impl_, "register_hook");
  TG_CHECK(requires_grad(), "register_hook: cannot register a hook on a tensor that does not require grad");
  if (impl_->grad_fn) {
    impl_->grad_fn->pre_hooks.push_back(std::move(hook));
  } else {
    impl_->hooks.push_back(std::move(hook));
  }
}

void Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const {
  checked(impl_, "register_post_accumulate_grad_hook");
  TG_CHECK(requires_grad() && !impl_->grad_fn,
           "register_post_accumulate_grad_hook: only a leaf that requires grad accumulates a gradient");
  impl_->post_accumulate_hooks.push_back(std::move(hook));
}

void Tensor::retain_grad() const {
  checked(impl_, "retain_grad");
  TG_CHECK(requires_grad(), "retain_grad: tensor does not require grad");
  if (!impl_->grad_fn || impl_->retains_grad) return;  // leaves always keep .grad()
  impl_->retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_;
  impl_->grad_fn->pre_hooks.push_back([weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      impl->grad = accumulate_grad(impl->grad, g, GradSum::kStored);
    }
    return Tensor();
  });
}

Tensor Tensor::contiguous(MemoryFormat format) const { return tg::contiguous(*this, format); }
Tensor Tensor::clone() const { return tg::clone(*this); }
Tensor Tensor::to(DType dtype) const { return tg::to_dtype(*this, dtype); }
Tensor Tensor::reshape(IntArrayRef shape) const { return tg::reshape(*this, shape); }
Tensor Tensor::view(IntArrayRef shape) const { return tg::view(*this, shape); }
Tensor Tensor::permute(const Shape& dims) const { return tg::permute(*this, dims); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return tg::transpose(*this, d0, d1); }
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return tg::slice(*this, dim, start, end, step);
}
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const { return tg::narrow(*this, dim, start, length); }
Tensor Tensor::expand(const Shape& shape) const { return tg::expand(*this, shape); }
Tensor Tensor::squeeze() const { return tg::squeeze(*this); }
Tensor Tensor::squeeze(int64_t dim) const { return tg::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int64_t dim) const { return tg::unsqueeze(*this, dim); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const { return tg::flatten(*this, start_dim, end_dim); }
Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const { return tg::index(*this, indices); }
Tensor Tensor::select(int64_t dim, int64_t i) const { return tg::select(*this, dim, i); }
std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t dim) const { return tg::chunk(*this, chunks, dim); }
std::vector<Tensor> Tensor::split(int64_t split_size, int64_t dim) const { return tg::split(*this, split_size, dim); }
std::vector<Tensor> Tensor::unbind(int64_t dim) const { return tg::unbind(*this, dim); }
Tensor Tensor::masked_fill(const Tensor& mask, double value) const { return tg::masked_fill(*this, mask, value); }
Tensor Tensor::flip(IntArrayRef dims) const { return tg::flip(*this, dims); }
Tensor Tensor::repeat(IntArrayRef sizes) const { return tg::repeat(*this, sizes); }
Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::sum(IntArrayRef dims, bool keepdim) const { return tg::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return tg::mean(*this); }
Tensor Tensor::mean(IntArrayRef dims, bool keepdim) const { return tg::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return tg::max(*this); }
Tensor Tensor::min() const { return tg::min(*this); }
Tensor Tensor::argmax() const { return tg::argmax(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return tg::argmax(*this, dim, keepdim); }
Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }
Tensor Tensor::pow(double exponent) const { return tg::pow(*this, exponent); }
Tensor Tensor::exp() const { return tg::exp(*this); }
Tensor Tensor::log() const { return tg::log(*this); }
Tensor Tensor::sqrt() const { return tg::sqrt(*this); }
Tensor Tensor::abs() const { return tg::abs(*this); }
Tensor Tensor::relu() const { return tg::relu(*this); }
Tensor Tensor::sigmoid() const { return tg::sigmoid(*this); }
Tensor Tensor::tanh() const { return tg::tanh(*this); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::string suffix;
  if (t.grad_fn()) {
    suffix = ", grad_fn=<" + t.grad_fn()->name() + ">";
  } else if (t.requires_grad()) {
    suffix = ", requires_grad=true";
  }
  ops::print_array(os, t.data(), suffix);
  return os;
}

// ---- factories ----
static Tensor make(ops::Array a, const TensorOptions& o) { return Tensor(std::move(a), o.requires_grad); }

Tensor zeros(const Shape& shape, TensorOptions o) { return make(ops::Array::zeros(shape, o.dtype), o); }
Tensor ones(const Shape& shape, TensorOptions o) { return make(ops::Array::full(shape, 1.0, o.dtype), o); }
Tensor full(const Shape& shape, double value, TensorOptions o) {
  return make(ops::Array::full(shape, value, o.dtype), o);
}
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar_tensor(double value, TensorOptions o) { return make(ops::Array::scalar(value, o.dtype), o); }
// Without a dtype, arange is int64 when its bounds and step are integers, float32 otherwise (as
// torch.arange: arange(5) is int64, arange(0, 1, 0.25) float32, never a truncated int64).
static DType arange_dtype(Scalar start, Scalar end, Scalar step) {
  return start.is_floating() || end.is_floating() || step.is_floating() ? kFloat32 : kInt64;
}
Tensor arange(Scalar end) { return arange(0, end, 1); }
Tensor arange(Scalar start, Scalar end, Scalar step) {
  return arange(start, end, step, arange_dtype(start, end, step));
}
Tensor arange(Scalar end, TensorOptions o) { return arange(0, end, 1, o); }
Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions o) {
  return make(ops::arange(start.to_double(), end.to_double(), step.to_double(), o.dtype), o);
}
Tensor linspace(double start, double end, int64_t steps, TensorOptions o) {
  TG_CHECK(steps >= 0, "linspace: steps must be non-negative, got ", steps);
  std::vector<double> v(steps);
  // Both halves from their own end, as torch.linspace: the last value is exactly `end` (one step
  // gives `start`).
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  for (int64_t i = 0; i < steps; ++i) {
    v[i] = i < steps / 2 || steps == 1 ? start + step * i : end - step * (steps - 1 - i);
  }
  return make(ops::Array::from_vector(v, {steps}).to(o.dtype), o);
}
Tensor eye(int64_t n, int64_t m, TensorOptions o) {
  if (m < 0) m = n;
  TG_CHECK(n >= 0, "eye: n must be non-negative, got ", n);
  ops::Array a = ops::Array::zeros({n, m}, kFloat64);
  for (int64_t i = 0; i < std::min(n, m); ++i) a.data<double>()[i * m + i] = 1.0;
  return make(a.to(o.dtype), o);
}
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }
Tensor rand_like(const Tensor& t, ops::Generator* gen) { return rand(t.shape(), t.dtype(), gen); }
Tensor randn_like(const Tensor& t, ops::Generator* gen) { return randn(t.shape(), t.dtype(), gen); }
Tensor rand(const Shape& shape, TensorOptions o, ops::Generator* gen) {
  return make(ops::uniform(shape, 0.0, 1.0, o.dtype, gen ? *gen : ops::default_generator()), o);
}
Tensor randn(const Shape& shape, TensorOptions o, ops::Generator* gen) {
  return make(ops::normal(shape, 0.0, 1.0, o.dtype, gen ? *gen : ops::default_generator()), o);
}
void manual_seed(uint64_t seed) { ops::default_generator().seed(seed); }

template <typename T>
static Tensor from_values(const std::vector<T>& values, const Shape& shape, const TensorOptions& o) {
  const Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  return make(ops::Array::from_vector(values, s).to(o.dtype), o);
}

Tensor tensor(const std::vector<double>& v, const Shape& shape, TensorOptions o) { return from_values(v, shape, o); }
Tensor tensor(const std::vector<float>& v, const Shape& shape, TensorOptions o) { return from_values(v, shape, o); }
Tensor tensor(const std::vector<int64_t>& v, const Shape& shape, TensorOptions o) { return from_values(v, shape, o); }
Tensor tensor(std::initializer_list<double> values, TensorOptions o) {
  return from_values(std::vector<double>(values), {}, o);
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, TensorOptions o) {
  std::vector<double> flat;
  const int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& row : rows) {
    TG_CHECK(static_cast<int64_t>(row.size()) == cols, "tensor: ragged nested list (rows of ", cols, " and ",
             row.size(), " values)");
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return from_values(flat, {static_cast<int64_t>(rows.size()), cols}, o);
}

}  // namespace tg
