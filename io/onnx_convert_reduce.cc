// tapegrad/io/onnx_convert_reduce.cc: ONNX reductions (ReduceX, ArgMax/ArgMin), CumSum and TopK.
// The axes are an attribute before opset 13 (ReduceSum) or 18 (the others) and an input after;
// no axes means all of them, unless noop_with_empty_axes says the reduction is the identity.
#include <algorithm>

#include "autograd/functions.h"
#include "autograd/indexing.h"
#include "io/onnx_converters.h"

namespace tg::io {

namespace {

using C = OnnxNodeContext;

enum class Reduce { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// The sorted, non-negative axes a reduction runs over (all dims for none), or nullopt for the
// identity (noop_with_empty_axes with no axes).
std::optional<std::vector<int64_t>> reduce_axes(C& c, const Tensor& x, int axes_input_opset) {
  std::vector<int64_t> axes;
  if (c.opset() >= axes_input_opset) {
    if (c.has_in(1)) axes = c.int_values(1);
  } else {
    axes = c.ints("axes", std::vector<int64_t>{});
  }
  if (axes.empty()) {
    if (c.opset() >= axes_input_opset && c.i("noop_with_empty_axes", 0) != 0) return std::nullopt;
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  }
  for (int64_t& a : axes) a = c.axis(a, x.dim(), "axes entry");
  std::sort(axes.begin(), axes.end());
  TG_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), "axes repeat a dimension");
  return axes;
}

// max/min/prod reduce one dim at a time (keeping it), from the last, then drop the dims.
template <std::tuple<Tensor, Tensor> (*Op)(const Tensor&, int64_t, bool)>
Tensor reduce_each(const Tensor& x, const std::vector<int64_t>& axes) {
  Tensor y = x;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) y = std::get<0>(Op(y, *it, true));
  return y;
}

Tensor prod_each(const Tensor& x, const std::vector<int64_t>& axes) {
  Tensor y = x;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) y = prod(y, *it, true);
  return y;
}

Tensor drop_dims(const Tensor& y, const std::vector<int64_t>& axes) {
  Tensor out = y;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) out = squeeze(out, *it);
  return out;
}

template <Reduce kind, int kAxesInputOpset>
Tensors reduce(C& c) {
  const Tensor& x = c.in(0);
  const auto axes = reduce_axes(c, x, kAxesInputOpset);
  if (!axes) return {x};
  const bool keep = c.i("keepdims", 1) != 0;
  if (x.dim() == 0) return {x};
  switch (kind) {
    case Reduce::kSum: return {sum(x, *axes, keep)};
    case Reduce::kMean: return {mean(x, *axes, keep)};
    case Reduce::kSumSquare: return {sum(mul(x, x), *axes, keep)};
    case Reduce::kL1: return {sum(abs(x), *axes, keep)};
    case Reduce::kL2: return {sqrt(sum(mul(x, x), *axes, keep))};
    case Reduce::kLogSum: return {log(sum(x, *axes, keep))};
    case Reduce::kLogSumExp: return {logsumexp(x, *axes, keep)};
    case Reduce::kMax: {
      const Tensor y = reduce_each<max>(x, *axes);
      return {keep ? y : drop_dims(y, *axes)};
    }
    case Reduce::kMin: {
      const Tensor y = reduce_each<min>(x, *axes);
      return {keep ? y : drop_dims(y, *axes)};
    }
    case Reduce::kProd: {
      const Tensor y = prod_each(x, *axes);
      return {keep ? y : drop_dims(y, *axes)};
    }
  }
  return {};
}

template <bool kMax>
Tensors arg_reduce(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.i("axis", 0), x.dim());
  const bool keep = c.i("keepdims", 1) != 0;
  if (c.i("select_last_index", 0) == 0) return {kMax ? argmax(x, axis, keep) : argmin(x, axis, keep)};
  // The last of equal extremes: the first in the flipped tensor, mapped back.
  const Tensor flipped = flip(x, {axis});
  const Tensor i = kMax ? argmax(flipped, axis, keep) : argmin(flipped, axis, keep);
  return {Scalar(x.size(axis) - 1) - i};
}

Tensors cumsum_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = c.axis(c.int_scalar(1), x.dim());
  const bool reverse = c.i("reverse", 0) != 0, exclusive = c.i("exclusive", 0) != 0;
  Tensor v = reverse ? flip(x, {axis}) : x;
  Tensor s = cumsum(v, axis);
  if (exclusive) s = sub(s, v);
  return {reverse ? flip(s, {axis}) : s};
}

Tensors topk_onnx(C& c) {
  const Tensor& x = c.in(0);
  const int64_t k = c.opset() < 10 ? c.i("k") : c.int_scalar(1);
  const int64_t axis = c.axis(c.i("axis", -1), x.dim());
  const bool largest = c.i("largest", 1) != 0, sorted = c.i("sorted", 1) != 0;
  TG_CHECK(k >= 0 && k <= x.size(axis), "k ", k, " is out of range for dimension ", axis, " of ", shape_str(x.shape()));
  auto [values, indices] = topk(x, k, axis, largest, /*sorted=*/true);
  (void)sorted;  // ONNX leaves the order unspecified when sorted=0; sorted is one valid order
  return {values, indices};
}

const bool kRegistered = register_onnx_converters({
    {.op_type = "ReduceSum", .convert = reduce<Reduce::kSum, 13>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceMean", .convert = reduce<Reduce::kMean, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceMax", .convert = reduce<Reduce::kMax, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceMin", .convert = reduce<Reduce::kMin, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceProd", .convert = reduce<Reduce::kProd, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceL1", .convert = reduce<Reduce::kL1, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceL2", .convert = reduce<Reduce::kL2, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceLogSum", .convert = reduce<Reduce::kLogSum, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceLogSumExp", .convert = reduce<Reduce::kLogSumExp, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ReduceSumSquare", .convert = reduce<Reduce::kSumSquare, 18>, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "ArgMax", .convert = arg_reduce<true>},
    {.op_type = "ArgMin", .convert = arg_reduce<false>},
    {.op_type = "CumSum", .convert = cumsum_onnx, .min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}},
    {.op_type = "TopK", .convert = topk_onnx, .max_inputs = 2, .max_outputs = 2, .constant_inputs = {1}},
});

}  // namespace

}  // namespace tg::io
