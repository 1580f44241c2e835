// tapegrad/autograd/functions/pool.cc: op rows for max_pool2d and avg_pool2d (and the latter's
// adjoint avg_pool2d_backward). max_pool2d's backward scatters into the argmax positions.
#include "autograd/functions/spatial_attrs.h"
#include "autograd/grad_mode.h"

namespace tg {

using internal::constant;
using internal::Pool2dAttrs;

namespace {

ops::Pool2dParams params(const Attrs& a) { return Pool2dAttrs::decode(a).params(); }

const OpDef& kMaxPool2d = define_op({
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
    .attr_schema = Pool2dAttrs::schema(/*average=*/false),
    .onnx = {{.op_type = "MaxPool",
              .attrs = {{"kernel_shape", "kernel"}, {"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                        {"dilations", "dilation"}, {"ceil_mode", "ceil_mode"}}}},
});

const OpDef& kAvgPool2dBackward = define_op({
    .name = "avg_pool2d_backward",
    .forward = [](ForwardContext& c) {
      return ops::avg_pool2d_backward(c.in(0), c.attrs.ints("input_shape"), params(c.attrs));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {apply_op(*find_op("avg_pool2d"), {c.grad}, Pool2dAttrs::decode(c.attrs()).encode())};
    },
    .attr_schema = Pool2dAttrs::schema(/*average=*/true, {{"input_shape", AttrType::kInts, 4}}),
    .not_onnx = "backward-only row (the adjoint of avg_pool2d)",
});

const OpDef& kAvgPool2d = define_op({
    .name = "avg_pool2d",
    .forward = [](ForwardContext& c) { return ops::avg_pool2d(c.in(0), params(c.attrs)); },
    .backward = [](BackwardContext& c) -> Grads {
      Attrs a = c.attrs();
      a.set("input_shape", c.input_shape(0));
      return {apply_op(kAvgPool2dBackward, {c.grad}, a)};
    },
    .attr_schema = Pool2dAttrs::schema(/*average=*/true),
    .onnx = {{.op_type = "AveragePool",
              .attrs = {{"kernel_shape", "kernel"}, {"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                        {"count_include_pad", "count_include_pad", OnnxAttrForm::kSame, /*if_absent=*/1},
                        {"ceil_mode", "ceil_mode"}},
              .refuse = [](const Attrs& a, const std::vector<bool>&) -> std::string {
                return a.has("divisor_override") ? "ONNX AveragePool has no divisor_override" : "";
              }}},
});

Attrs pool_attrs(const char* op, const Tensor& x, const Pool2dAttrs& p) {
  ops::pool2d_output_shape(x.shape(), p.params(), op);  // validate before recording
  return p.encode();
}

}  // namespace


Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding, Size2 dilation,
                  bool ceil_mode) {
  Pool2dAttrs p{kernel, stride.value_or(kernel), padding, std::nullopt};
  p.dilation = dilation;
  p.ceil_mode = ceil_mode;
  return apply_op(kMaxPool2d, {x}, pool_attrs("max_pool2d", x, p));
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  TG_CHECK(!divisor_override || *divisor_override > 0, "avg_pool2d: divisor_override must be positive, got ",
           divisor_override.value_or(0));
  Pool2dAttrs p{kernel, stride.value_or(kernel), padding, count_include_pad};
  p.ceil_mode = ceil_mode;
  p.divisor_override = divisor_override;
  return apply_op(kAvgPool2d, {x}, pool_attrs("avg_pool2d", x, p));
}

}  // namespace tg
