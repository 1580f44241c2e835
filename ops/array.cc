// tapegrad/ops/array.cc: Array construction, views, copies and dtype conversion.
#include "ops/array.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "ops/internal/strided_loop.h"

namespace tg {

const char* memory_format_name(MemoryFormat format) {
  switch (format) {
    case MemoryFormat::Contiguous: return "contiguous";
    case MemoryFormat::Preserve: return "preserve";
    case MemoryFormat::ChannelsLast: return "channels_last";
  }
  return "memory_format(invalid)";
}

}  // namespace tg

namespace tg::ops {

namespace internal {
Shape broadcast_strides(const Shape& in, const Shape& in_strides, const Shape& out) {
  Shape s(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[lead + i] = in[i] == 1 ? 0 : in_strides[i];
  return s;
}
}  // namespace internal

// Note [Channels last]: a 4-d activation [N, C, H, W] may be stored [N, H, W, C]
// (MemoryFormat::ChannelsLast, as in PyTorch): oneDNN's convolutions read and write that order
// directly, where the default order costs a reorder to and from their blocked layout around
// every call. A network stays channels last once its input is (x.contiguous(ChannelsLast)):
// convolutions write their output in their input's format, elementwise kernels and batch norm
// write empty_like() outputs, and every other op reads any strides (copying to contiguous where
// its kernel needs). Only the layout differs: values, shapes and gradients are the same.
Shape channels_last_strides(const Shape& shape) {
  TG_CHECK(shape.size() == 4, "channels_last: expected a 4-d shape [N, C, H, W], got ", shape_str(shape));
  const int64_t c = std::max<int64_t>(shape[1], 1), w = std::max<int64_t>(shape[3], 1),
                h = std::max<int64_t>(shape[2], 1);
  return {h * w * c, 1, w * c, c};
}

Array Array::empty(const Shape& shape, DType dtype, MemoryFormat format) {
  TG_CHECK(format == MemoryFormat::Contiguous || format == MemoryFormat::ChannelsLast,
           "empty: memory format must be contiguous or channels_last, got ", memory_format_name(format));
  Array out = empty(shape, dtype);
  if (format == MemoryFormat::ChannelsLast) out.strides_ = channels_last_strides(shape);
  return out;
}

Array empty_like(const Array& x, DType dtype) { return Array::empty(x.shape(), dtype, x.suggest_memory_format()); }

Array::Array(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      numel_(shape_numel(shape_)),
      dtype_(dtype) {}

Array Array::empty(const Shape& shape, DType dtype) {
  const int64_t n = shape_numel(shape, "empty");
  int64_t bytes;
  TG_CHECK(!__builtin_mul_overflow(n, dtype_size(dtype), &bytes), "empty: shape ", shape_str(shape),
           " is too large");
  return Array(std::make_shared<Storage>(bytes), shape, contiguous_strides(shape), 0, dtype);
}

namespace {

// Note [Float to integer]: converting NaN, an infinity or a float beyond int64's range to an
// integer has no defined result in C++ (PyTorch gives whatever the CPU does); it throws here,
// since a wrong number is worse than an error. Floats are truncated toward zero as C does.
// Kernels may run on OpenMP threads, where nothing may throw: they convert with
// `convertible` checked, flag a value that is not, and throw after the loop (throw_unconvertible).
template <typename D, typename S>
bool convertible(S v) {
  if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D> && !std::is_same_v<D, bool>) {
    // 2^63 is exactly representable; every float below it (and >= -2^63) converts.
    return v >= S(-9223372036854775808.0) && v < S(9223372036854775808.0);
  }
  return true;
}

[[noreturn]] void throw_unconvertible(double v) {
  throw Error(absl::StrCat("to 64-bit integer: the value ", v,
                           " has no integer counterpart (NaN, infinite or out of range)"));
}

template <typename D, typename S>
D convert(S v) {
  if (!convertible<D>(v)) throw_unconvertible(static_cast<double>(v));
  return static_cast<D>(v);
}

}  // namespace

Array Array::full(const Shape& shape, double value, DType dtype) {
  Array out = empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    std::fill_n(out.data<T>(), out.numel(), convert<T>(value));
  });
  return out;
}

int64_t Array::size(int64_t d) const {
  TG_CHECK(dim() > 0, "size: dimension ", d, " of a 0-d tensor (it has no dimensions)");
  return shape_[wrap_dim(d, dim(), "size")];
}

bool Array::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Array::is_contiguous(MemoryFormat format) const {
  if (format == MemoryFormat::Contiguous) return is_contiguous();
  TG_CHECK(format == MemoryFormat::ChannelsLast, "is_contiguous: memory format must be contiguous or channels_last, got ",
           memory_format_name(format));
  if (dim() != 4) return false;
  const Shape want = channels_last_strides(shape_);
  for (int64_t i = 0; i < 4; ++i)
    if (shape_[i] != 1 && strides_[i] != want[i]) return false;
  return true;
}

MemoryFormat Array::suggest_memory_format() const {
  if (dim() != 4 || !is_contiguous(MemoryFormat::ChannelsLast)) return MemoryFormat::Contiguous;
  if (!is_contiguous()) return MemoryFormat::ChannelsLast;
  // Both (a dim of size 1 makes the orders agree): the exact strides say which was meant.
  return strides_ == channels_last_strides(shape_) && strides_ != contiguous_strides(shape_) ? MemoryFormat::ChannelsLast
                                                                                             : MemoryFormat::Contiguous;
}

double Array::item() const {
  TG_CHECK(numel_ == 1, "item: expected a one-element tensor, got shape ", shape_str(shape_));
  return dispatch_all(dtype_, [&](auto tag) { return static_cast<double>(*data<decltype(tag)>()); });
}

double Array::at(const Shape& index) const {
  TG_CHECK(index.size() == shape_.size(), "at: index rank ", index.size(), " vs tensor rank ", dim());
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    TG_CHECK(index[i] >= 0 && index[i] < shape_[i], "at: index ", index[i], " out of range for dim ", i,
             " of size ", shape_[i]);
    off += index[i] * strides_[i];
  }
  return dispatch_all(dtype_, [&](auto tag) { return static_cast<double>(data<decltype(tag)>()[off]); });
}

Array Array::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  return Array(storage_, shape, strides, offset, dtype_);
}

// Note [View strides]: a reshape is a view exactly when each group of old dims that merges or
// splits into new dims is itself contiguous in memory (the algorithm of PyTorch's computeStride).
static bool compute_view_strides(const Shape& old_shape, const Shape& old_strides, const Shape& new_shape,
                                 Shape* new_strides) {
  new_strides->assign(new_shape.size(), 0);
  if (old_shape.empty()) {
    for (auto& s : *new_strides) s = 1;
    return true;
  }
  int64_t numel = 1;
  for (int64_t d : old_shape) numel *= d;
  if (numel == 0) {
    *new_strides = contiguous_strides(new_shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = static_cast<int64_t>(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[tensor_d];
    if (tensor_d == 0 ||
        (old_shape[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        (*new_strides)[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Array Array::view(const Shape& shape) const {
  const Shape target = infer_shape(shape, numel_, "view");
  Shape strides;
  TG_CHECK(compute_view_strides(shape_, strides_, target, &strides), "view: shape ", shape_str(target),
           " is not compatible with the strides of input ", shape_str(shape_), " (call contiguous() or reshape)");
  return Array(storage_, target, strides, offset_, dtype_);
}

Array Array::reshape(const Shape& shape) const {
  const Shape target = infer_shape(shape, numel_, "reshape");
  Shape strides;
  if (compute_view_strides(shape_, strides_, target, &strides)) {
    return Array(storage_, target, strides, offset_, dtype_);
  }
  return clone().view(target);
}

Array Array::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  TG_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " > end_dim ", end_dim);
  Shape target(shape_.begin(), shape_.begin() + start_dim);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= shape_[d];
  target.push_back(merged);
  target.insert(target.end(), shape_.begin() + end_dim + 1, shape_.end());
  return reshape(target);
}

Array Array::permute(const Shape& dims) const {
  TG_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: got ", dims.size(), " dims ",
           shape_str(dims), " for a tensor of shape ", shape_str(shape_));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    TG_CHECK(!seen[d], "permute: dimension ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return Array(storage_, shape, strides, offset_, dtype_);
}

Array Array::transpose(int64_t d0, int64_t d1) const {
  if (dim() == 0) return *this;
  Shape perm(dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[wrap_dim(d0, dim(), "transpose")], perm[wrap_dim(d1, dim(), "transpose")]);
  return permute(perm);
}

Array Array::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  TG_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape_[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = shape_, strides = strides_;
  shape[d] = (end - start + step - 1) / step;
  strides[d] = strides_[d] * step;
  return Array(storage_, shape, strides, offset_ + start * strides_[d], dtype_);
}

Array Array::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  TG_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], "narrow: range [", start, ", ",
           start + length, ") out of bounds for dimension ", d, " of size ", shape_[d]);
  return slice(d, start, start + length);
}

Array Array::expand(const Shape& shape) const {
  TG_CHECK(shape.size() >= shape_.size(), "expand: cannot expand ", shape_str(shape_), " to fewer dims ",
           shape_str(shape));
  const size_t lead = shape.size() - shape_.size();
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      TG_CHECK(shape[i] >= 0, "expand: invalid size ", shape[i], " in ", shape_str(shape));
      out_shape[i] = shape[i];
      continue;
    }
    const int64_t have = shape_[i - lead];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    TG_CHECK(have == want || have == 1, "expand: cannot expand ", shape_str(shape_), " to ", shape_str(shape),
             " (dimension ", i, ": ", have, " vs ", want, ")");
    out_shape[i] = want;
    strides[i] = have == want ? strides_[i - lead] : 0;
  }
  return Array(storage_, out_shape, strides, offset_, dtype_);
}

Array Array::squeeze() const {
  Shape shape, strides;
  for (int64_t i = 0; i < dim(); ++i) {
    if (shape_[i] != 1) {
      shape.push_back(shape_[i]);
      strides.push_back(strides_[i]);
    }
  }
  return Array(storage_, shape, strides, offset_, dtype_);
}

Array Array::squeeze(int64_t d) const {
  if (dim() == 0) return *this;
  d = wrap_dim(d, dim(), "squeeze");
  if (shape_[d] != 1) return *this;
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return Array(storage_, shape, strides, offset_, dtype_);
}

Array Array::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape shape = shape_, strides = strides_;
  const int64_t stride = d < dim() ? strides_[d] * shape_[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return Array(storage_, shape, strides, offset_, dtype_);
}

Array Array::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Array Array::contiguous(MemoryFormat format) const {
  if (format == MemoryFormat::Preserve) return is_flat() ? *this : contiguous();
  if (format == MemoryFormat::Contiguous) return contiguous();
  if (is_contiguous(format)) {  // already in that order: at most the size-1 dims' strides change
    return suggest_memory_format() == format ? *this : as_strided(shape_, channels_last_strides(shape_), offset_);
  }
  Array out = empty(shape_, dtype_, format);
  copy_into(out, *this);
  return out;
}

Array Array::clone() const {
  Array out = empty(shape_, dtype_);
  copy_into(out, *this);
  return out;
}

Array Array::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Array out = empty(shape_, dtype);
  copy_into(out, *this);
  return out;
}


namespace {

// memcpy, spread over the threads for large blocks (one thread does not saturate the memory
// bandwidth: a 3 MB residual copied into a convolution's output was 4 % of a ResNet forward,
// done while the other thread waited).
void copy_bytes(void* dst, const void* src, int64_t bytes) {
  constexpr int64_t kParallelBytes = 512 << 10, kBlock = 64 << 10;
  if (bytes < kParallelBytes) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const int64_t blocks = (bytes + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlock;
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin, std::min(kBlock, bytes - begin));
  }
}

}  // namespace

void overwrite(const Array& dst, const Array& src, std::string_view writer) {
  copy_into(dst, src);
  dst.storage()->bump_version(writer);
}

void copy_into(const Array& dst, const Array& src) {
  const Shape src_strides = internal::broadcast_strides(
      src.shape(), src.strides(), broadcast_shapes(dst.shape(), src.shape(), "copy"));
  TG_CHECK(broadcast_shapes(dst.shape(), src.shape(), "copy") == dst.shape(), "copy: cannot copy ",
           shape_str(src.shape()), " into ", shape_str(dst.shape()));
  if (dst.numel() == 0) return;  // empty arrays may have no storage (null data)
  dispatch_all(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    dispatch_all(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      D* d = dst.data<D>();
      const S* s = src.data<S>();
      // Same dtype and the same dense layout (contiguous, channels last...): one block copy.
      const bool same_layout = dst.shape() == src.shape() &&
                               ((dst.is_contiguous() && src.is_contiguous()) || (dst.strides() == src.strides() && dst.is_flat()));
      if (same_layout && std::is_same_v<D, S>) {
        copy_bytes(d, s, dst.numel() * static_cast<int64_t>(sizeof(D)));
        return;
      }
      const Shape& dstr = dst.strides();
      std::atomic<bool> unconvertible{false};
      std::atomic<double> example{0.0};
      internal::for_each_row<2>(dst.shape(), {&dstr, &src_strides}, [&](auto off, int64_t n) {
        const int64_t ds = dst.dim() ? dstr.back() : 1, ss = dst.dim() ? src_strides.back() : 1;
        D* dp = d + off[0];
        const S* sp = s + off[1];
        if constexpr (std::is_same_v<D, S>) {  // every value converts: a plain (strided) copy
          if (ds == 1 && ss == 1) {
            std::memcpy(static_cast<void*>(dp), sp, n * sizeof(D));
          } else {
            for (int64_t i = 0; i < n; ++i) dp[i * ds] = sp[i * ss];
          }
          return;
        }
        for (int64_t i = 0; i < n; ++i) {
          const S v = sp[i * ss];
          if (convertible<D>(v)) {
            dp[i * ds] = static_cast<D>(v);
          } else {
            dp[i * ds] = D(0);
            example.store(static_cast<double>(v), std::memory_order_relaxed);
            unconvertible.store(true, std::memory_order_relaxed);
          }
        }
      });
      if (unconvertible.load()) throw_unconvertible(example.load());
    });
  });
}

}  // namespace tg::ops
