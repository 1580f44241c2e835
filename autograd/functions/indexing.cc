// tapegrad/autograd/functions/indexing.cc: the pad row, and the indexing and rearranging
// functions of autograd/indexing.h as compositions of rows (slice, reshape, index_select, cat,
// expand, where, pad).
#include "autograd/indexing.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_join.h"
#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "ops/index.h"

namespace tg {

using internal::constant;

namespace {

ops::PadMode pad_mode(const std::string& mode) {
  if (mode == "constant") return ops::PadMode::kConstant;
  if (mode == "reflect") return ops::PadMode::kReflect;
  if (mode == "replicate") return ops::PadMode::kReplicate;
  throw Error(absl::StrCat("pad: mode must be \"constant\", \"reflect\" or \"replicate\", got \"", mode, "\""));
}

// The row's "pads" are ONNX's layout: the begins of every dim, then the ends.
std::pair<Shape, Shape> begins_ends(const Attrs& a, int64_t rank) {
  const Shape& pads = a.ints("pads");
  TG_CHECK(static_cast<int64_t>(pads.size()) == 2 * rank, "pad: ", pads.size(), " pads for a ", rank,
           "-d tensor (need ", 2 * rank, ")");
  return {Shape(pads.begin(), pads.begin() + rank), Shape(pads.begin() + rank, pads.end())};
}

Tensor zero_pad_dim(const Tensor& x, int64_t dim, int64_t begin, int64_t end);

// The adjoint of padding dim d by (b, e) in `mode`, for an input of size n there.
Tensor unpad_dim(const Tensor& g, int64_t d, int64_t b, int64_t e, int64_t n, ops::PadMode mode) {
  Tensor out = narrow(g, d, b, n);
  if (mode == ops::PadMode::kConstant) return out;
  if (b > 0) {
    const Tensor left = narrow(g, d, 0, b);
    out = out + (mode == ops::PadMode::kReflect ? zero_pad_dim(flip(left, {d}), d, 1, n - 1 - b)
                                                : zero_pad_dim(sum(left, {d}, true), d, 0, n - 1));
  }
  if (e > 0) {
    const Tensor right = narrow(g, d, b + n, e);
    out = out + (mode == ops::PadMode::kReflect ? zero_pad_dim(flip(right, {d}), d, n - 1 - e, 1)
                                                : zero_pad_dim(sum(right, {d}, true), d, n - 1, 0));
  }
  return out;
}

std::string pad_mode_is(const Attrs& a, const char* mode) {
  return a.s("mode") == mode ? "" : absl::StrCat("for mode ", mode);
}

const OpDef& kPad = define_op({
    .name = "pad",
    .forward = [](ForwardContext& c) {
      const auto [begins, ends] = begins_ends(c.attrs, c.in(0).dim());
      return ops::pad(c.in(0), begins, ends, pad_mode(c.attrs.s("mode")), c.attrs.f("value"));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& in = c.input_shape(0);
      const auto [begins, ends] = begins_ends(c.attrs(), static_cast<int64_t>(in.size()));
      const ops::PadMode mode = pad_mode(c.attrs().s("mode"));
      Tensor g = c.grad;
      for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
        if (begins[d] != 0 || ends[d] != 0) g = unpad_dim(g, d, begins[d], ends[d], in[d], mode);
      }
      return {g};
    },
    .attr_schema = {{"pads", AttrType::kInts}, {"mode", AttrType::kString}, {"value", AttrType::kFloat}},
    .onnx = {{.op_type = "Pad",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64List, "pads"),
                         onnx_attr_in(OnnxInputForm::kScalar, "value")},
              .refuse = [](const Attrs& a, const std::vector<bool>&) { return pad_mode_is(a, "constant"); }},
             {.op_type = "Pad",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64List, "pads")},
              .fixed_strings = {{"mode", "reflect"}},
              .refuse = [](const Attrs& a, const std::vector<bool>&) { return pad_mode_is(a, "reflect"); }},
             {.op_type = "Pad",
              .inputs = {onnx_in(0), onnx_attr_in(OnnxInputForm::kInt64List, "pads")},
              .fixed_strings = {{"mode", "edge"}},
              .refuse = [](const Attrs& a, const std::vector<bool>&) { return pad_mode_is(a, "replicate"); }}},
});

Tensor pad_row(const Tensor& x, const Shape& begins, const Shape& ends, const std::string& mode, double value) {
  if (std::all_of(begins.begin(), begins.end(), [](int64_t v) { return v == 0; }) &&
      std::all_of(ends.begin(), ends.end(), [](int64_t v) { return v == 0; })) {
    return x;
  }
  Shape pads = begins;
  pads.insert(pads.end(), ends.begin(), ends.end());
  return apply_op(kPad, {x}, {{"pads", pads}, {"mode", mode}, {"value", value}});
}

Tensor zero_pad_dim(const Tensor& x, int64_t dim, int64_t begin, int64_t end) {
  Shape begins(x.dim(), 0), ends(x.dim(), 0);
  begins[dim] = begin;
  ends[dim] = end;
  return pad_row(x, begins, ends, "constant", 0.0);
}

int64_t wrap_index(int64_t i, int64_t size, int64_t dim, const Shape& shape, const char* op) {
  TG_CHECK(i >= -size && i < size, op, ": index ", i, " is out of range for dimension ", dim, " of size ", size,
           " (tensor ", shape_str(shape), ")");
  return i < 0 ? i + size : i;
}

// An int64 index tensor with negative entries wrapped (as a constant), checked against size.
Tensor wrapped_indices(const Tensor& index, int64_t size, int64_t dim, const Shape& shape, const char* op) {
  TG_CHECK(index.dtype() == kInt64, op, ": index tensor must be int64 or bool, got ", dtype_name(index.dtype()));
  std::vector<int64_t> v = index.to_vector<int64_t>();
  for (int64_t& i : v) i = wrap_index(i, size, dim, shape, op);
  return tensor(v, index.shape(), kInt64);
}

}  // namespace

namespace indexing {
TensorIndex::TensorIndex(const char* s) : value_(EllipsisIndex{}) {
  TG_CHECK(s != nullptr && std::strcmp(s, "...") == 0, "index: the only string index is \"...\", got \"",
           s ? s : "(null)", "\"");
}
}  // namespace indexing

Tensor select(const Tensor& x, int64_t dim, int64_t i) {
  TG_CHECK(x.dim() > 0, "select: cannot select from a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "select");
  i = wrap_index(i, x.size(dim), dim, x.shape(), "select");
  return squeeze(slice(x, dim, i, i + 1), dim);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  TG_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "split");
  TG_CHECK(split_size > 0 || (split_size == 0 && x.size(dim) == 0), "split: split_size must be positive, got ", split_size);
  std::vector<Tensor> out;
  for (int64_t at = 0; at < x.size(dim); at += split_size) out.push_back(narrow(x, dim, at, std::min(split_size, x.size(dim) - at)));
  if (out.empty()) out.push_back(x);
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  TG_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    TG_CHECK(s >= 0, "split: sizes must be non-negative, got [", absl::StrJoin(sizes, ","), "]");
    total += s;
  }
  TG_CHECK(total == x.size(dim), "split: sizes [", absl::StrJoin(sizes, ","), "] sum to ", total, ", dim ", dim,
           " of ", shape_str(x.shape()), " has ", x.size(dim));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, dim, at, s));
    at += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  TG_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  TG_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t n = x.size(ops::wrap_dim(dim, x.dim(), "chunk"));
  return split(x, std::max<int64_t>((n + chunks - 1) / chunks, n == 0 ? 0 : 1), dim);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  TG_CHECK(x.dim() > 0, "unbind: cannot unbind a 0-d tensor");
  dim = ops::wrap_dim(dim, x.dim(), "unbind");
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.size(dim); ++i) out.push_back(select(x, dim, i));
  return out;
}

Tensor flip(const Tensor& x, IntArrayRef dims) {
  Tensor out = x;
  for (int64_t d : dims.vec()) {
    d = ops::wrap_dim(d, x.dim(), "flip");
    std::vector<int64_t> reversed(x.size(d));
    std::iota(reversed.rbegin(), reversed.rend(), 0);
    out = index_select(out, d, tensor(reversed, {x.size(d)}, kInt64));
  }
  return out;
}

Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims) {
  if (dims.vec().empty()) {
    TG_CHECK(shifts.vec().size() == 1, "roll: without dims, one shift (got ", shifts.vec().size(), ")");
    return reshape(roll(flatten(x), shifts, {0}), x.shape());
  }
  TG_CHECK(shifts.vec().size() == dims.vec().size(), "roll: ", shifts.vec().size(), " shifts for ", dims.vec().size(), " dims");
  Tensor out = x;
  for (size_t k = 0; k < dims.vec().size(); ++k) {
    const int64_t d = ops::wrap_dim(dims.vec()[k], x.dim(), "roll"), n = x.size(d);
    if (n == 0) continue;
    const int64_t s = ((shifts.vec()[k] % n) + n) % n;
    if (s == 0) continue;
    out = cat({narrow(out, d, n - s, s), narrow(out, d, 0, n - s)}, d);
  }
  return out;
}

Tensor repeat(const Tensor& x, IntArrayRef sizes) {
  const Shape& r = sizes.vec();
  TG_CHECK(static_cast<int64_t>(r.size()) >= x.dim(), "repeat: ", r.size(), " repeat counts for a ", x.dim(),
           "-d tensor (need at least as many as dims)");
  for (int64_t v : r) TG_CHECK(v >= 0, "repeat: counts must be non-negative, got [", absl::StrJoin(r, ","), "]");
  // [a, b] -> [1, a, 1, b] -> expand [r0, a, r1, b] -> [r0 a, r1 b]; leading counts add dims.
  const int64_t lead = static_cast<int64_t>(r.size()) - x.dim();
  Shape interleaved, expanded, out_shape;
  for (int64_t d = 0; d < static_cast<int64_t>(r.size()); ++d) {
    const int64_t size = d < lead ? 1 : x.size(d - lead);
    interleaved.insert(interleaved.end(), {1, size});
    expanded.insert(expanded.end(), {r[d], size});
    int64_t repeated = 0;
    TG_CHECK(!__builtin_mul_overflow(r[d], size, &repeated), "repeat: counts [", absl::StrJoin(r, ","),
             "] of a tensor of shape ", shape_str(x.shape()), " overflow a 64-bit size");
    out_shape.push_back(repeated);
  }
  return reshape(contiguous(expand(reshape(x, interleaved), expanded)), out_shape);
}

Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim) {
  TG_CHECK(repeats >= 0, "repeat_interleave: repeats must be non-negative, got ", repeats);
  if (!dim) return repeat_interleave(flatten(x), repeats, 0);
  const int64_t d = ops::wrap_dim(*dim, std::max<int64_t>(x.dim(), 1), "repeat_interleave");
  Shape expanded = x.shape(), out_shape = x.shape();
  expanded.insert(expanded.begin() + d + 1, repeats);
  TG_CHECK(!__builtin_mul_overflow(out_shape[d], repeats, &out_shape[d]), "repeat_interleave: ", repeats,
           " repeats of dim ", d, " of shape ", shape_str(x.shape()), " overflow a 64-bit size");
  return reshape(contiguous(expand(unsqueeze(x, d + 1), expanded)), out_shape);
}

Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<int64_t> dim) {
  TG_CHECK(repeats.dtype() == kInt64 && repeats.dim() <= 1, "repeat_interleave: repeats must be a 0-d or 1-D int64 tensor");
  if (repeats.dim() == 0) return repeat_interleave(x, repeats.item<int64_t>(), dim);
  if (!dim) return repeat_interleave(flatten(x), repeats, 0);
  const int64_t d = ops::wrap_dim(*dim, x.dim(), "repeat_interleave");
  const std::vector<int64_t> r = repeats.to_vector<int64_t>();
  TG_CHECK(static_cast<int64_t>(r.size()) == x.size(d), "repeat_interleave: ", r.size(), " repeat counts for dim ", d,
           " of ", shape_str(x.shape()));
  std::vector<int64_t> index;
  for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i) {
    TG_CHECK(r[i] >= 0, "repeat_interleave: repeats must be non-negative, got ", r[i]);
    index.insert(index.end(), r[i], i);
  }
  return index_select(x, d, tensor(index, {static_cast<int64_t>(index.size())}, kInt64));
}

namespace {
// 1 where column - row <= diagonal (lower) or >= diagonal (upper), over the last two dims.
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower, const char* op) {
  TG_CHECK(x.dim() >= 2, op, ": needs at least 2 dims, got ", shape_str(x.shape()));
  const int64_t rows = x.size(-2), cols = x.size(-1);
  ops::Array keep = ops::Array::empty({rows, cols}, kBool);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) keep.data<bool>()[i * cols + j] = lower ? j - i <= diagonal : j - i >= diagonal;
  return where(constant(keep), x, zeros({}, x.dtype()));
}
}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, true, "tril"); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, false, "triu"); }

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  TG_CHECK(mask.dtype() == kBool, "masked_fill: mask must be bool, got ", dtype_name(mask.dtype()));
  TG_CHECK(ops::broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), "masked_fill: mask ",
           shape_str(mask.shape()), " does not broadcast to the tensor ", shape_str(x.shape()));
  TG_CHECK(is_floating(x.dtype()) || !value.is_floating() || std::trunc(value.to_double()) == value.to_double(),
           "masked_fill: the value ", value.str(), " does not fit the ", dtype_name(x.dtype()), " tensor");
  return where(mask, scalar_tensor(value.to_double(), x.dtype()), x);
}

Tensor nonzero(const Tensor& x) { return Tensor(ops::nonzero(x.data())); }

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  TG_CHECK(mask.dtype() == kBool, "masked_select: mask must be bool, got ", dtype_name(mask.dtype()));
  const Shape shape = ops::broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  const Tensor flat_mask = reshape(contiguous(expand(mask, shape)), {-1});
  const Tensor positions = reshape(nonzero(flat_mask), {-1});
  return index_select(reshape(expand(x, shape), {-1}), 0, positions);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  TG_CHECK(indices.dtype() == kInt64, "one_hot: indices must be int64, got ", dtype_name(indices.dtype()));
  const std::vector<int64_t> v = indices.to_vector<int64_t>();
  int64_t largest = -1;
  for (int64_t i : v) {
    TG_CHECK(i >= 0, "one_hot: index ", i, " is negative");
    largest = std::max(largest, i);
  }
  if (num_classes < 0) {
    TG_CHECK(!v.empty(), "one_hot: num_classes = -1 needs at least one index");
    num_classes = largest + 1;
  }
  TG_CHECK(largest < num_classes, "one_hot: index ", largest, " is out of range for ", num_classes, " classes");
  NoGradGuard no_grad;
  return to_dtype(eq(unsqueeze(indices, -1), arange(num_classes)), kInt64);
}

Tensor pad(const Tensor& x, IntArrayRef pad_sizes, const std::string& mode, double value) {
  const Shape& p = pad_sizes.vec();
  TG_CHECK(p.size() % 2 == 0 && static_cast<int64_t>(p.size()) <= 2 * x.dim(), "pad: [", absl::StrJoin(p, ","),
           "] must be pairs (left, right) for at most the ", x.dim(), " dims of ", shape_str(x.shape()));
  pad_mode(mode);  // validates
  Shape begins(x.dim(), 0), ends(x.dim(), 0);
  Tensor cropped = x;
  for (size_t k = 0; k < p.size() / 2; ++k) {
    const int64_t d = x.dim() - 1 - static_cast<int64_t>(k);
    int64_t b = p[2 * k], e = p[2 * k + 1];
    if (b < 0 || e < 0) {  // negative padding crops, in constant mode as PyTorch
      TG_CHECK(mode == "constant", "pad: negative padding [", absl::StrJoin(p, ","), "] needs mode \"constant\"");
      const int64_t from = std::max<int64_t>(-b, 0), to = cropped.size(d) - std::max<int64_t>(-e, 0);
      TG_CHECK(from <= to, "pad: [", absl::StrJoin(p, ","), "] crops more than dim ", d, " of ", shape_str(x.shape()));
      cropped = slice(cropped, d, from, to);
    }
    begins[d] = std::max<int64_t>(b, 0);
    ends[d] = std::max<int64_t>(e, 0);
  }
  return pad_row(cropped, begins, ends, mode, value);
}

Tensor index(const Tensor& x, const std::vector<indexing::TensorIndex>& indices) {
  using indexing::EllipsisIndex;
  using indexing::NoneIndex;
  using indexing::Slice;
  // Dims the indices consume: ints, slices and int tensors one each, bool masks their rank.
  int64_t consumed = 0, ellipses = 0, tensors = 0;
  for (const auto& i : indices) {
    const auto& v = i.value();
    if (std::holds_alternative<int64_t>(v) || std::holds_alternative<Slice>(v)) ++consumed;
    if (const Tensor* t = std::get_if<Tensor>(&v)) {
      consumed += t->dtype() == kBool ? t->dim() : 1;
      ++tensors;
    }
    if (std::holds_alternative<EllipsisIndex>(v)) ++ellipses;
  }
  TG_CHECK(ellipses <= 1, "index: at most one \"...\", got ", ellipses);
  TG_CHECK(consumed <= x.dim(), "index: ", consumed, " indexed dims for a tensor ", shape_str(x.shape()));
  TG_CHECK(tensors <= 1, "index: one tensor index at most (got ", tensors, "; combine them with index_select)");
  Tensor out = x;
  int64_t dim = 0;  // the output dim the next index applies to
  int64_t source_dim = 0;  // the input dim, for messages
  for (const auto& i : indices) {
    const auto& v = i.value();
    if (const int64_t* n = std::get_if<int64_t>(&v)) {
      TG_CHECK(dim < out.dim(), "index: too many indices for ", shape_str(x.shape()));
      const int64_t size = out.size(dim);
      TG_CHECK(*n >= -size && *n < size, "index: index ", *n, " is out of range for dimension ", source_dim,
               " of size ", size, " (tensor ", shape_str(x.shape()), ")");
      out = select(out, dim, *n);
      ++source_dim;
    } else if (const Slice* s = std::get_if<Slice>(&v)) {
      const int64_t step = s->step.value_or(1);
      TG_CHECK(step > 0, "index: slice step must be positive, got ", step);
      out = slice(out, dim, s->start.value_or(0), s->stop.value_or(out.size(dim)), step);
      ++dim;
      ++source_dim;
    } else if (std::holds_alternative<NoneIndex>(v)) {
      out = unsqueeze(out, dim++);
    } else if (const bool* b = std::get_if<bool>(&v)) {
      out = unsqueeze(out, dim);
      if (!*b) out = slice(out, dim, 0, 0);
      ++dim;
    } else if (std::holds_alternative<EllipsisIndex>(v)) {
      const int64_t skip = x.dim() - consumed;
      dim += skip;
      source_dim += skip;
    } else {
      const Tensor& t = std::get<Tensor>(v);
      if (t.dtype() == kBool) {  // a mask over the next t.dim() dims: they become one
        for (int64_t k = 0; k < t.dim(); ++k) {
          TG_CHECK(out.size(dim + k) == t.size(k), "index: mask ", shape_str(t.shape()), " does not match dims ",
                   source_dim, ".. of ", shape_str(x.shape()));
        }
        Shape merged(out.shape().begin(), out.shape().begin() + dim);
        merged.push_back(-1);
        merged.insert(merged.end(), out.shape().begin() + dim + t.dim(), out.shape().end());
        const Tensor positions = reshape(nonzero(reshape(t, {-1})), {-1});
        out = index_select(reshape(out, merged), dim, positions);
        source_dim += t.dim();
        ++dim;
      } else {
        const Tensor idx = wrapped_indices(t, out.size(dim), source_dim, x.shape(), "index");
        Shape result(out.shape().begin(), out.shape().begin() + dim);
        result.insert(result.end(), t.shape().begin(), t.shape().end());
        result.insert(result.end(), out.shape().begin() + dim + 1, out.shape().end());
        out = reshape(index_select(out, dim, reshape(idx, {-1})), result);
        dim += t.dim();
        ++source_dim;
      }
    }
  }
  return out;
}

}  // namespace tg
