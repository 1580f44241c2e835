// tapegrad/autograd/tensor.h: tg::Tensor, the one tensor type users hold. It is a shared handle
// (copies alias, like torch::Tensor) to data plus autograd metadata: requires_grad, the accumulated
// grad, and the tape node that produced it.
//   tg::Tensor w = tg::randn({3, 2}).set_requires_grad(true);
//   tg::Tensor loss = tg::sum(tg::matmul(x, w));
//   loss.backward();          // w.grad() now holds d loss / d w
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "ops/array.h"
#include "ops/generator.h"
#include "ops/scalar.h"

namespace tg {

class Node;
struct TensorImpl;
namespace indexing {
class TensorIndex;
}

class Tensor {
 public:
  using Hook = std::function<Tensor(const Tensor& grad)>;
  using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

  Tensor() = default;  // undefined
  explicit Tensor(ops::Array data, bool requires_grad = false);
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  // The grad-free array (shares storage). Reading is always fine; writing bypasses autograd.
  const ops::Array& data() const;
  const Shape& shape() const { return data().shape(); }
  int64_t dim() const { return data().dim(); }
  int64_t size(int64_t d) const { return data().size(d); }
  int64_t numel() const { return data().numel(); }
  DType dtype() const { return data().dtype(); }
  bool is_contiguous() const { return data().is_contiguous(); }
  // Stored in that memory format (Note [Channels last] in ops/array.cc); and the format a 4-d
  // tensor's layout suggests (ChannelsLast or Contiguous), as LibTorch's.
  bool is_contiguous(MemoryFormat format) const { return data().is_contiguous(format); }
  MemoryFormat suggest_memory_format() const { return data().suggest_memory_format(); }
  // A write through this pointer is not seen by the version counter (Note [Version counter] in
  // ops/storage.h): follow it with increment_version() so that saved values and packed
  // inference weights notice it.
  template <typename T>
  T* data_ptr() const {
    TG_CHECK(dtype() == dtype_of<T>(), "data_ptr: tensor is ", dtype_name(dtype()), ", asked for ",
             dtype_name(dtype_of<T>()));
    return data().data<T>();
  }
  // Marks the storage as written (after writes through data_ptr), as LibTorch's
  // torch::autograd::increment_version.
  void increment_version() const { data().storage()->bump_version("a write through data_ptr"); }
  double item() const { return data().item(); }
  template <typename T>
  T item() const {
    return static_cast<T>(data().item());
  }
  // Copies the values out, converted to T, in row-major order.
  template <typename T>
  std::vector<T> to_vector() const;

  // ---- autograd ----
  bool requires_grad() const;
  // Only on leaves; only floating dtypes can require grad.
  Tensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  // The accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  // Replaces the values (and possibly shape and dtype) with new_data's, keeping this tensor's
  // identity, requires_grad and hooks (LibTorch's set_data; Module::to uses it). Leaves only;
  // new_data's history is not taken, and its dtype must be floating if this tensor requires grad.
  void set_data(const Tensor& new_data) const;
  // Reverse-mode pass from this tensor. grad_output defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  // A new handle sharing data, cut from the graph.
  Tensor detach() const;
  // hook(grad) runs when the gradient w.r.t. this tensor is computed; a defined return replaces it.
  void register_hook(Hook hook) const;
  // Leaves only: hook(leaf) runs after a backward() has accumulated into leaf.grad() (PyTorch's
  // register_post_accumulate_grad_hook; DistributedDataParallel starts an all-reduce from it).
  void register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const;
  // Keep .grad() for a non-leaf tensor too.
  void retain_grad() const;
  std::shared_ptr<TensorImpl> impl() const { return impl_; }
  // How many Tensor handles share this tensor (0 if undefined), as LibTorch's Tensor::use_count().
  int64_t use_count() const { return impl_.use_count(); }

  // ---- in-place ops (autograd/inplace.h). Allowed while recording as in PyTorch, except on a
  // leaf that requires grad (a parameter) or a view of one; a value a backward saved that is
  // then modified makes that backward throw, naming both ops (Note [Version counter]). ----
  Tensor& zero_();
  Tensor& fill_(Scalar value);
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape, converted to this dtype
  Tensor& add_(const Tensor& other, Scalar alpha = 1);  // this += alpha * other
  Tensor& add_(Scalar other, Scalar alpha = 1);
  Tensor& sub_(const Tensor& other, Scalar alpha = 1);
  Tensor& sub_(Scalar other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(Scalar factor);
  Tensor& div_(const Tensor& other);
  Tensor& div_(Scalar divisor);
  Tensor& pow_(Scalar exponent);
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);
  Tensor& clamp_min_(double min);
  Tensor& clamp_max_(double max);
  Tensor& masked_fill_(const Tensor& mask, Scalar value);
  // x.index_put_({Slice(), 0}, v): writes v (broadcast) where x.index({...}) reads; with
  // accumulate, adds (repeated indices add up).
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values, bool accumulate = false);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, Scalar value);
  Tensor& neg_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& abs_();
  Tensor& relu_();
  Tensor& sigmoid_();
  Tensor& tanh_();
  Tensor& operator+=(const Tensor& other);
  Tensor& operator+=(Scalar other);
  Tensor& operator-=(const Tensor& other);
  Tensor& operator-=(Scalar other);
  Tensor& operator*=(const Tensor& other);
  Tensor& operator*=(Scalar other);
  Tensor& operator/=(const Tensor& other);
  Tensor& operator/=(Scalar other);

  // ---- conveniences forwarding to the free functions in functions.h ----
  // Differentiable: itself when already in that format, else a copy. ChannelsLast needs 4 dims:
  // x.contiguous(tg::MemoryFormat::ChannelsLast) makes the convolutions after it skip their
  // layout reorders.
  Tensor contiguous(MemoryFormat format = MemoryFormat::Contiguous) const;
  Tensor clone() const;  // differentiable copy
  Tensor to(DType dtype) const;  // differentiable between floating dtypes
  Tensor reshape(IntArrayRef shape) const;
  Tensor view(IntArrayRef shape) const;
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor expand(const Shape& shape) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;  // autograd/indexing.h
  Tensor select(int64_t dim, int64_t index) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> unbind(int64_t dim = 0) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor flip(IntArrayRef dims) const;
  Tensor repeat(IntArrayRef sizes) const;
  Tensor sum() const;
  Tensor sum(IntArrayRef dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(IntArrayRef dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// What a Tensor handle points to.
struct TensorImpl {
  ops::Array data;
  bool requires_grad = false;
  bool inference = false;  // made under tg::InferenceMode (grad_mode.h)
  Tensor grad;
  std::shared_ptr<Node> grad_fn;            // null for leaves
  std::weak_ptr<Node> grad_accumulator;     // leaves: the node that accumulates into grad
  std::vector<Tensor::Hook> hooks;          // leaves only; non-leaf hooks live on grad_fn
  std::vector<Tensor::PostAccumulateGradHook> post_accumulate_hooks;  // leaves only
  bool retains_grad = false;
  // Note [Views and in-place]: an op output sharing storage with an input (view, slice,
  // transpose...) is a view of that input's root base. An in-place write through the view or the
  // base rewrites the base's history; the view's grad_fn is then re-derived from the base when
  // next read (autograd/inplace.cc), so every alias differentiates through the write.
  std::shared_ptr<TensorImpl> view_base;    // the root tensor whose storage this one views
  bool view_created_recording = false;      // views made under NoGradGuard are not re-derived
  uint64_t view_version = 0;                // storage version its grad_fn was derived at
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories ----
struct TensorOptions {
  DType dtype = kFloat32;
  bool requires_grad = false;
  TensorOptions() = default;
  TensorOptions(DType d) : dtype(d) {}  // NOLINT: implicit, so zeros({2}, kFloat64) reads well
  TensorOptions& set_requires_grad(bool r = true) {
    requires_grad = r;
    return *this;
  }
};

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor scalar_tensor(double value, TensorOptions options = {});
// [start, end) by step. Without a dtype: int64 for integer arguments, float32 if any is a float.
Tensor arange(Scalar end);
Tensor arange(Scalar start, Scalar end, Scalar step = 1);
Tensor arange(Scalar end, TensorOptions options);
Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options);
// steps values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
// The n x m identity (m defaults to n).
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});
Tensor full_like(const Tensor& t, double value);
Tensor rand_like(const Tensor& t, ops::Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, ops::Generator* gen = nullptr);
// Integers uniform in [low, high) (int64 unless options says otherwise).
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = kInt64,
               ops::Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, ops::Generator* gen = nullptr);
// 1 with probability p[i] (p in [0, 1]), in p's dtype.
Tensor bernoulli(const Tensor& p, ops::Generator* gen = nullptr);
// num_samples category indices per row of probs ([C] or [N, C], non-negative weights), int64.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false,
                   ops::Generator* gen = nullptr);
// Uniform in [0, 1) and standard normal, from `gen` or the default generator.
Tensor rand(const Shape& shape, TensorOptions options = {}, ops::Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, ops::Generator* gen = nullptr);
// Seeds the default generator.
void manual_seed(uint64_t seed);
// From values; shape defaults to 1-D. dtype follows T unless options says otherwise.
Tensor tensor(const std::vector<double>& values, const Shape& shape = {}, TensorOptions options = {});
Tensor tensor(const std::vector<float>& values, const Shape& shape = {}, TensorOptions options = {});
Tensor tensor(const std::vector<int64_t>& values, const Shape& shape = {}, TensorOptions options = kInt64);
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
// Nested initializer list for 2-D data: tg::tensor({{1, 2}, {3, 4}}).
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, TensorOptions options = {});

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const ops::Array c = data().contiguous();
  std::vector<T> out(c.numel());
  dispatch_all(c.dtype(), [&](auto tag) {
    using S = decltype(tag);
    for (int64_t i = 0; i < c.numel(); ++i) out[i] = static_cast<T>(c.data<S>()[i]);
  });
  return out;
}

}  // namespace tg
