// tapegrad/autograd/inplace.cc: in-place ops and the history rewriting behind them (see
// inplace.h, Note [Version counter] in ops/storage.h, Note [Views and in-place] in tensor.h).
#include "autograd/inplace.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "autograd/node.h"
#include "autograd/op_table.h"
#include "ops/elementwise.h"

namespace tg {
namespace internal {

namespace {

// Where each element of `view` sits in `base`, as row-major indices into base (int64, view's
// shape): base's indices are written through base's geometry into a scratch buffer spanning
// base's storage range, then read back through the view's geometry.
ops::Array positions_in_base(const ops::Array& base, const ops::Array& view) {
  auto span = [](const ops::Array& a) {
    int64_t lo = a.offset(), hi = a.offset();
    for (int64_t d = 0; d < a.dim(); ++d) {
      const int64_t reach = (a.size(d) - 1) * a.strides()[d];
      (reach < 0 ? lo : hi) += reach;
    }
    return std::make_pair(lo, hi);
  };
  const auto [lo, hi] = span(base);
  const auto [view_lo, view_hi] = span(view);
  TG_CHECK(view.numel() == 0 || (view_lo >= lo && view_hi <= hi), "in-place: a view reaches outside its base");
  ops::Array scratch = ops::Array::full({hi - lo + 1}, -1, kInt64);
  ops::copy_into(ops::Array(scratch.storage(), base.shape(), base.strides(), base.offset() - lo, kInt64),
                 ops::arange(0, static_cast<double>(base.numel()), 1, kInt64).view(base.shape()));
  ops::Array positions =
      ops::Array(scratch.storage(), view.shape(), view.strides(), view.offset() - lo, kInt64).clone();
  const int64_t* p = positions.data<int64_t>();
  TG_CHECK(std::none_of(p, p + positions.numel(), [](int64_t i) { return i < 0; }),
           "in-place: a view covers memory its base does not");
  return positions;
}

// A bool mask of `shape`, true at `positions` (row-major indices).
ops::Array mask_at(const Shape& shape, const ops::Array& positions) {
  ops::Array mask = ops::Array::zeros(shape, kBool);
  bool* m = mask.data<bool>();
  const int64_t* p = positions.data<int64_t>();
  for (int64_t i = 0; i < positions.numel(); ++i) m[p[i]] = true;
  return mask;
}

// new_base = base with the view's elements replaced by `values` (PyTorch's CopySlices). Inputs:
// the base's previous history and the values written.
class CopySlices : public Node {
 public:
  CopySlices(ops::Array positions, Shape base_shape)
      : positions_(std::move(positions)), mask_(mask_at(base_shape, positions_)) {}
  std::string name() const override { return "copy_slices"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor flat_positions(positions_.reshape({-1}));
    Tensor to_values = index_select(grad.reshape({-1}), 0, flat_positions).reshape(positions_.shape());
    return {where(Tensor(mask_), Scalar(0), grad), to_values};
  }

 private:
  ops::Array positions_;
  ops::Array mask_;
};

// view = base's elements at `positions` (PyTorch's AsStridedBackward): the history a view
// gets from its base after the base was written.
class ViewOfBase : public Node {
 public:
  ViewOfBase(ops::Array positions, Shape base_shape) : positions_(std::move(positions)), base_shape_(std::move(base_shape)) {}
  std::string name() const override { return "as_strided"; }
  std::vector<Tensor> apply(const Tensor& grad) override {
    Tensor flat_positions(positions_.reshape({-1}));
    return {index_add(Shape{ops::shape_numel(base_shape_, "as_strided")}, 0, flat_positions, grad.reshape({-1}))
                .reshape(base_shape_)};
  }

 private:
  ops::Array positions_;
  Shape base_shape_;
};

void derive_from_base(TensorImpl& view, const ops::Array& positions) {
  Tensor base(view.view_base);
  Tensor self(std::shared_ptr<TensorImpl>(std::shared_ptr<TensorImpl>(), &view));  // non-owning handle
  record_node(std::make_shared<ViewOfBase>(positions, base.shape()), {base}, self);
  view.view_version = view.data.storage()->version();
}

bool has_internal_overlap(const ops::Array& a) {
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) > 1 && a.strides()[d] == 0) return true;
  }
  return false;
}

// PyTorch's canCast: no floating result into an integral tensor, nothing but bool into bool.
bool can_cast(DType from, DType to) {
  return dtype_category(from) <= dtype_category(to);
}

// `t` as a `dtype` tensor: differentiable between floating dtypes, a constant otherwise (an
// integral value carries no gradient).
Tensor converted(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  return is_floating(t.dtype()) && is_floating(dtype) ? t.to(dtype) : Tensor(t.data().to(dtype));
}

// `values` itself, or a copy when it shares storage with `target` (copy_ from a view of itself).
ops::Array unaliased(const ops::Array& values, const ops::Array& target) {
  return values.storage() == target.storage() ? values.clone() : values;
}

}  // namespace

void mark_view(const Tensor& input, const Tensor& output) {
  if (!input.defined() || input.data().storage() != output.data().storage() || input.dtype() != output.dtype()) return;
  TensorImpl& out = *output.impl();
  out.view_base = input.impl()->view_base ? input.impl()->view_base : input.impl();
  out.view_created_recording = GradMode::is_enabled();
  out.view_version = out.data.storage()->version();
}

void refresh_view(TensorImpl& impl) {
  if (!impl.view_base || !impl.view_created_recording) return;
  const uint64_t version = impl.data.storage()->version();
  if (version == impl.view_version) return;
  impl.view_version = version;
  if (!impl.view_base->requires_grad) return;
  derive_from_base(impl, positions_in_base(impl.view_base->data, impl.data));
}

Tensor& apply_inplace(Tensor& self, const char* op, const std::vector<Tensor>& operands, const Functional& functional,
                      const std::function<void()>& direct) {
  TG_CHECK(self.defined(), op, ": tensor is undefined");
  TensorImpl& impl = *self.impl();
  TG_CHECK(!has_internal_overlap(impl.data), op, ": the tensor written to ", shape_str(self.shape()),
           " has elements sharing memory (an expand() view); clone() it first");
  TG_CHECK(!impl.inference || InferenceMode::is_enabled(), op, ": an in-place write to an inference tensor (made ",
           "under tg::InferenceMode) outside InferenceMode; clone() it first");
  const bool self_requires_grad = self.requires_grad();  // refreshes a view's history
  TensorImpl* base = impl.view_base.get();
  bool recording = false;
  if (GradMode::is_enabled()) {
    TG_CHECK(!(self.is_leaf() && self_requires_grad), op, ": a leaf tensor that requires grad (a parameter) ",
             "cannot be modified in place while recording; wrap the update in tg::NoGradGuard");
    if (base != nullptr && base->requires_grad) {
      TG_CHECK(base->grad_fn != nullptr, op, ": a view of a leaf tensor that requires grad (a parameter) cannot ",
               "be modified in place while recording; wrap the update in tg::NoGradGuard");
      TG_CHECK(impl.view_created_recording, op, ": this view of a tensor that requires grad was made under ",
               "tg::NoGradGuard, so autograd cannot follow a write through it while recording; make the view ",
               "while recording, or write under tg::NoGradGuard");
    }
    recording = self_requires_grad || (base != nullptr && base->requires_grad) ||
                std::any_of(operands.begin(), operands.end(), [](const Tensor& t) { return t.requires_grad(); });
  }
  OpObserver* observer = current_op_observer();
  if (!recording && observer == nullptr && direct) {
    direct();
    impl.data.storage()->bump_version(op);
    return self;
  }
  // While recording, the op sees a copy of the old values with the old history: its backward may
  // save them, and the write below must not change what it saved.
  Tensor old = self;
  if (recording) {
    old = Tensor(impl.data.clone());
    old.impl()->requires_grad = self_requires_grad;
    old.impl()->grad_fn = impl.grad_fn;
  }
  Tensor out = functional(old);
  TG_CHECK(out.shape() == self.shape(), op, ": the result has shape ", shape_str(out.shape()),
           " but the tensor written to has shape ", shape_str(self.shape()), " (an in-place op cannot broadcast ",
           "the tensor it writes)");
  TG_CHECK(can_cast(out.dtype(), self.dtype()), op, ": result type ", dtype_name(out.dtype()),
           " can't be cast to the desired output type ", dtype_name(self.dtype()));
  if (out.dtype() != self.dtype()) out = out.to(self.dtype());
  ops::copy_into(impl.data, unaliased(out.data(), impl.data));
  impl.data.storage()->bump_version(op);
  if (observer != nullptr) observer->on_inplace(self, out);
  if (!recording) return self;
  if (base != nullptr && (base->requires_grad || out.requires_grad())) {
    // A write through a view: the base's history becomes "the old base with these elements
    // replaced", and the view's is derived from that.
    const ops::Array positions = positions_in_base(base->data, impl.data);
    Tensor base_tensor(impl.view_base);
    Tensor old_base(base->data);
    old_base.impl()->requires_grad = base->requires_grad;
    old_base.impl()->grad_fn = base->grad_fn;
    record_node(std::make_shared<CopySlices>(positions, base->data.shape()), {old_base, out}, base_tensor);
    derive_from_base(impl, positions);
    return self;
  }
  impl.grad_fn = out.requires_grad() ? out.grad_fn() : nullptr;
  impl.requires_grad = out.requires_grad();
  return self;
}

}  // namespace internal

using internal::apply_inplace;

Tensor& Tensor::zero_() { return fill_(0); }

Tensor& Tensor::fill_(Scalar value) {
  const ops::Array& a = data();
  return apply_inplace(
      *this, "fill_", {}, [&](const Tensor& self) { return full(self.shape(), value.to_double(), self.dtype()); },
      [&] { ops::copy_into(a, ops::Array::scalar(value.to_double(), a.dtype())); });
}

Tensor& Tensor::copy_(const Tensor& src) {
  TG_CHECK(src.defined(), "copy_: source is undefined");
  TG_CHECK(ops::broadcast_shapes(src.shape(), shape(), "copy_") == shape(), "copy_: source ", shape_str(src.shape()),
           " cannot be broadcast to ", shape_str(shape()));
  const ops::Array& a = data();
  return apply_inplace(
      *this, "copy_", {src},
      [&](const Tensor& self) {
        Tensor s = internal::converted(src, self.dtype());
        return s.shape() == self.shape() ? s : s.expand(self.shape());
      },
      [&] { ops::copy_into(a, internal::unaliased(src.data(), a)); });
}

Tensor& Tensor::add_(const Tensor& other, Scalar alpha) {
  const ops::Array& a = data();
  const bool fused = other.dtype() == dtype() && ops::broadcast_shapes(other.shape(), shape(), "add_") == shape() &&
                     other.data().storage() != a.storage() && (is_floating(dtype()) || !alpha.is_floating());
  return apply_inplace(
      *this, "add_", {other},
      [&](const Tensor& self) { return alpha.to_double() == 1 ? self + other : self + other * alpha; },
      fused ? std::function<void()>([&] { ops::add_into(a, other.data(), alpha.to_double()); }) : nullptr);
}

Tensor& Tensor::add_(Scalar other, Scalar alpha) {
  const Scalar scaled = alpha.to_double() == 1 ? other
                        : other.is_floating() || alpha.is_floating() ? Scalar(other.to_double() * alpha.to_double())
                                                                     : Scalar(other.to_int() * alpha.to_int());
  return apply_inplace(*this, "add_", {}, [&](const Tensor& self) { return self + scaled; });
}

Tensor& Tensor::sub_(const Tensor& other, Scalar alpha) {
  return apply_inplace(*this, "sub_", {other}, [&](const Tensor& self) {
    return alpha.to_double() == 1 ? self - other : self - other * alpha;
  });
}

Tensor& Tensor::sub_(Scalar other) {
  return apply_inplace(*this, "sub_", {}, [&](const Tensor& self) { return self - other; });
}

Tensor& Tensor::mul_(const Tensor& other) {
  return apply_inplace(*this, "mul_", {other}, [&](const Tensor& self) { return self * other; });
}

Tensor& Tensor::mul_(Scalar factor) {
  const ops::Array& a = data();
  const bool fused = is_floating(dtype());
  return apply_inplace(
      *this, "mul_", {}, [&](const Tensor& self) { return self * factor; },
      fused ? std::function<void()>([&] { ops::copy_into(a, ops::scale(a, factor.to_double())); }) : nullptr);
}

Tensor& Tensor::div_(const Tensor& other) {
  return apply_inplace(*this, "div_", {other}, [&](const Tensor& self) { return self / other; });
}

Tensor& Tensor::div_(Scalar divisor) {
  return apply_inplace(*this, "div_", {}, [&](const Tensor& self) { return self / divisor; });
}

Tensor& Tensor::pow_(Scalar exponent) {
  return apply_inplace(*this, "pow_", {}, [&](const Tensor& self) { return tg::pow(self, exponent); });
}

Tensor& Tensor::clamp_(std::optional<double> min, std::optional<double> max) {
  return apply_inplace(*this, "clamp_", {}, [&](const Tensor& self) { return tg::clamp(self, min, max); });
}

Tensor& Tensor::clamp_min_(double min) { return clamp_(min, std::nullopt); }
Tensor& Tensor::clamp_max_(double max) { return clamp_(std::nullopt, max); }

Tensor& Tensor::masked_fill_(const Tensor& mask, Scalar value) {
  return apply_inplace(*this, "masked_fill_", {},
                       [&](const Tensor& self) { return tg::masked_fill(self, mask, value); });
}

namespace {
// The unary in-place methods: self = fn(self).
Tensor& unary_inplace(Tensor& self, const char* op, Tensor (*fn)(const Tensor&)) {
  return apply_inplace(self, op, {}, fn);
}
}  // namespace

Tensor& Tensor::neg_() { return unary_inplace(*this, "neg_", tg::neg); }
Tensor& Tensor::exp_() { return unary_inplace(*this, "exp_", tg::exp); }
Tensor& Tensor::log_() { return unary_inplace(*this, "log_", tg::log); }
Tensor& Tensor::sqrt_() { return unary_inplace(*this, "sqrt_", tg::sqrt); }
Tensor& Tensor::abs_() { return unary_inplace(*this, "abs_", tg::abs); }
Tensor& Tensor::relu_() { return unary_inplace(*this, "relu_", tg::relu); }
Tensor& Tensor::sigmoid_() { return unary_inplace(*this, "sigmoid_", tg::sigmoid); }
Tensor& Tensor::tanh_() { return unary_inplace(*this, "tanh_", tg::tanh); }

Tensor& Tensor::operator+=(const Tensor& other) { return add_(other); }
Tensor& Tensor::operator+=(Scalar other) { return add_(other); }
Tensor& Tensor::operator-=(const Tensor& other) { return sub_(other); }
Tensor& Tensor::operator-=(Scalar other) { return sub_(other); }
Tensor& Tensor::operator*=(const Tensor& other) { return mul_(other); }
Tensor& Tensor::operator*=(Scalar other) { return mul_(other); }
Tensor& Tensor::operator/=(const Tensor& other) { return div_(other); }
Tensor& Tensor::operator/=(Scalar other) { return div_(other); }

Tensor index_put(const Tensor& x, const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                 bool accumulate) {
  TG_CHECK(values.defined(), "index_put: values are undefined");
  // Which elements of x the indices select, as row-major positions (the same indexing rules as
  // x.index(indices), applied to x's positions).
  const Tensor positions = index(arange(x.numel()).view(x.shape()), indices);
  TG_CHECK(ops::broadcast_shapes(values.shape(), positions.shape(), "index_put") == positions.shape(), "index_put: values ",
           shape_str(values.shape()), " cannot be broadcast to the indexed shape ", shape_str(positions.shape()),
           " (tensor ", shape_str(x.shape()), ")");
  TG_CHECK(internal::can_cast(values.dtype(), x.dtype()), "index_put: values of type ",
           dtype_name(values.dtype()), " can't be written into a ", dtype_name(x.dtype()), " tensor");
  Tensor v = internal::converted(values, x.dtype());
  v = (v.shape() == positions.shape() ? v : v.expand(positions.shape())).reshape({-1});
  ops::Array flat = positions.data().contiguous();
  const int64_t* p = flat.data<int64_t>();
  const int64_t n = flat.numel();
  const Shape numel_shape{x.numel()};
  if (accumulate) return x + index_add(numel_shape, 0, Tensor(flat.reshape({-1})), v).reshape(x.shape());
  // Without accumulate an element indexed twice gets the last value written (as PyTorch on CPU).
  std::vector<int64_t> last(x.numel(), -1);
  for (int64_t i = 0; i < n; ++i) last[p[i]] = i;
  std::vector<int64_t> kept, kept_positions;  // which values survive, and where they go
  for (int64_t i = 0; i < n; ++i) {
    if (last[p[i]] != i) continue;
    kept.push_back(i);
    kept_positions.push_back(p[i]);
  }
  Tensor kept_index = tensor(kept, {static_cast<int64_t>(kept.size())});
  Tensor where_index = tensor(kept_positions, {static_cast<int64_t>(kept_positions.size())});
  Tensor scattered = index_add(numel_shape, 0, where_index, index_select(v, 0, kept_index)).reshape(x.shape());
  Tensor written(internal::mask_at(x.shape(), flat));
  return where(written, scattered, x);
}

Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values, bool accumulate) {
  if (!accumulate) {
    // Basic indexing (ints, slices, None, "...") selects a view: write through it.
    Tensor selected = tg::index(*this, indices);
    if (selected.impl() == impl()) return copy_(values);
    if (selected.data().storage() == data().storage()) {
      selected.copy_(values);
      return *this;
    }
  }
  return apply_inplace(*this, "index_put_", {values},
                       [&](const Tensor& self) { return index_put(self, indices, values, accumulate); });
}

Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, Scalar value) {
  return index_put_(indices, full({}, value.to_double(), dtype()));  // the number takes the tensor's dtype
}

}  // namespace tg
