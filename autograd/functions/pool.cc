// tapegrad/autograd/functions/pool.cc: op rows for max_pool2d and avg_pool2d (and the latter's
// adjoint avg_pool2d_backward). max_pool2d's backward scatters into the argmax positions.
#include "autograd/functions/common.h"
#include "autograd/grad_mode.h"
#include "autograd/functions/registry.h"
#include "ops/pool.h"

namespace tg {

using internal::constant;
using internal::pair;

namespace {

ops::Pool2dParams params(const Attrs& a) {
  const auto &k = a.ints("kernel"), &s = a.ints("stride"), &p = a.ints("padding");
  ops::Pool2dParams out{k[0], k[1], s[0], s[1], p[0], p[1]};
  if (a.has("count_include_pad")) out.count_include_pad = a.b("count_include_pad");
  return out;
}

const OpDef kMaxPool2d{
    .name = "max_pool2d",
    .forward = [](ForwardContext& c) {
      auto [out, indices] = ops::max_pool2d(c.in(0), params(c.attrs), c.extras_needed);
      if (c.extras_needed) c.extras.push_back(indices);
      return out;
    },
    // Without create_graph nothing differentiates the result: one fused kernel (zero + scatter).
    .backward = [](BackwardContext& c) -> Grads {
      const Shape& in = c.input_shape(0);
      if (!GradMode::is_enabled())
        return {Tensor(ops::max_pool2d_backward(c.grad.data(), c.extra_array(0), in))};
      const int64_t n = in[0], ch = in[1];
      const Tensor g = reshape(c.grad, {n, ch, -1});
      const Tensor idx = constant(c.extra_array(0).reshape({n, ch, -1}));
      return {reshape(scatter_add({n, ch, in[2] * in[3]}, 2, idx, g), in)};
    },
    .attr_schema = {{"kernel", AttrType::kInts, 2}, {"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}},
    .onnx = {{.op_type = "MaxPool",
              .attrs = {{"kernel_shape", "kernel"}, {"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d}}}},
};

const OpDef kAvgPool2dBackward{
    .name = "avg_pool2d_backward",
    .forward = [](ForwardContext& c) {
      return ops::avg_pool2d_backward(c.in(0), c.attrs.ints("input_shape"), params(c.attrs));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Attrs& a = c.attrs();
      Attrs pool{{"kernel", a.ints("kernel")}, {"stride", a.ints("stride")}, {"padding", a.ints("padding")}};
      if (a.has("count_include_pad")) pool.set("count_include_pad", a.b("count_include_pad"));
      return {apply_op(*find_op("avg_pool2d"), {c.grad}, pool)};
    },
    .attr_schema = {{"kernel", AttrType::kInts, 2}, {"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}, {"count_include_pad", AttrType::kBool, -1, true}, {"input_shape", AttrType::kInts, 4}},
    .not_onnx = "backward-only row (the adjoint of avg_pool2d)",
};

const OpDef kAvgPool2d{
    .name = "avg_pool2d",
    .forward = [](ForwardContext& c) { return ops::avg_pool2d(c.in(0), params(c.attrs)); },
    .backward = [](BackwardContext& c) -> Grads {
      Attrs a = c.attrs();
      a.set("input_shape", c.input_shape(0));
      return {apply_op(kAvgPool2dBackward, {c.grad}, a)};
    },
    .attr_schema = {{"kernel", AttrType::kInts, 2}, {"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}, {"count_include_pad", AttrType::kBool, -1, true}},
    .onnx = {{.op_type = "AveragePool",
              .attrs = {{"kernel_shape", "kernel"}, {"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                        {"count_include_pad", "count_include_pad"}}}},
};

Attrs pool_attrs(const char* op, const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  Attrs a{{"kernel", pair(kernel)}, {"stride", pair(stride.value_or(kernel))}, {"padding", pair(padding)}};
  ops::pool2d_output_shape(x.shape(), params(a), op);  // validate before recording
  return a;
}

}  // namespace

namespace internal {
void register_pool_ops() {
  for (const OpDef* op : {&kMaxPool2d, &kAvgPool2d, &kAvgPool2dBackward}) register_op(*op);
}
}  // namespace internal

Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  return apply_op(kMaxPool2d, {x}, pool_attrs("max_pool2d", x, kernel, stride, padding));
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding,
                  bool count_include_pad) {
  Attrs a = pool_attrs("avg_pool2d", x, kernel, stride, padding);
  a.set("count_include_pad", count_include_pad);
  return apply_op(kAvgPool2d, {x}, a);
}

}  // namespace tg
