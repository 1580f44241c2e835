// tapegrad/autograd/functions/conv.cc: op rows for conv2d and its two adjoints.
// Note [conv2d double backward]: with y = conv(x, w), Dx(g, w) and Dw(x, g) its adjoints,
//   d/dg <Dx(g,w), u> = conv(u, w)     d/dw <Dx(g,w), u> = Dw(u, g)
//   d/dg <Dw(x,g), u> = conv(x, u)     d/dx <Dw(x,g), u> = Dx(g, u)
// so all three rows are differentiable in terms of each other, to any order.
#include "autograd/functions/common.h"
#include "autograd/functions/registry.h"
#include "ops/conv.h"

namespace tg {

using internal::if_needed;
using internal::pair;

namespace {

ops::Conv2dParams params(const Attrs& a) {
  const auto &s = a.ints("stride"), &p = a.ints("padding"), &d = a.ints("dilation");
  return {s[0], s[1], p[0], p[1], d[0], d[1], a.i("groups")};
}
Size2 at(const Attrs& a, const char* name) { return {a.ints(name)[0], a.ints(name)[1]}; }

Attrs conv_attrs(Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  return {{"stride", pair(stride)}, {"padding", pair(padding)}, {"dilation", pair(dilation)}, {"groups", groups}};
}

const OpDef kConv2d{
    .name = "conv2d",
    .forward = [](ForwardContext& c) {
      return ops::conv2d(c.in(0), c.in(1), c.has(2) ? c.in(2) : ops::Array(), params(c.attrs));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Attrs& a = c.attrs();
      const Size2 s = at(a, "stride"), p = at(a, "padding"), d = at(a, "dilation");
      const int64_t g = a.i("groups");
      return {if_needed(c, 0, [&] { return conv2d_backward_input(c.grad, c.input(1), c.input_shape(0), s, p, d, g); }),
              if_needed(c, 1, [&] { return conv2d_backward_weight(c.input(0), c.grad, c.input_shape(1), s, p, d, g); }),
              if_needed(c, 2, [&] { return sum(c.grad, {0, 2, 3}); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 3,
    .attr_schema = {{"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}, {"dilation", AttrType::kInts, 2}, {"groups", AttrType::kInt}},
    .onnx = {{.op_type = "Conv",
              .attrs = {{"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                        {"dilations", "dilation"}, {"group", "groups"}}}},
};

const OpDef kConv2dBackwardInput{
    .name = "conv2d_backward_input",
    .forward = [](ForwardContext& c) {
      return ops::conv2d_backward_input(c.in(0), c.in(1), c.attrs.ints("input_shape"), params(c.attrs));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Attrs& a = c.attrs();
      const Size2 s = at(a, "stride"), p = at(a, "padding"), d = at(a, "dilation");
      const int64_t g = a.i("groups");
      return {if_needed(c, 0, [&] { return conv2d(c.grad, c.input(1), Tensor(), s, p, d, g); }),
              if_needed(c, 1, [&] { return conv2d_backward_weight(c.grad, c.input(0), c.input_shape(1), s, p, d, g); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}, {"dilation", AttrType::kInts, 2}, {"groups", AttrType::kInt}, {"input_shape", AttrType::kInts, 4}},
    .not_onnx = "backward-only row (the adjoint of conv2d)",
};

const OpDef kConv2dBackwardWeight{
    .name = "conv2d_backward_weight",
    .forward = [](ForwardContext& c) {
      return ops::conv2d_backward_weight(c.in(0), c.in(1), c.attrs.ints("weight_shape"), params(c.attrs));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Attrs& a = c.attrs();
      const Size2 s = at(a, "stride"), p = at(a, "padding"), d = at(a, "dilation");
      const int64_t g = a.i("groups");
      return {if_needed(c, 0, [&] { return conv2d_backward_input(c.input(1), c.grad, c.input_shape(0), s, p, d, g); }),
              if_needed(c, 1, [&] { return conv2d(c.input(0), c.grad, Tensor(), s, p, d, g); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2}, {"dilation", AttrType::kInts, 2}, {"groups", AttrType::kInt}, {"weight_shape", AttrType::kInts, 4}},
    .not_onnx = "backward-only row (the weight adjoint of conv2d)",
};

}  // namespace

namespace internal {
void register_conv_ops() {
  for (const OpDef* op : {&kConv2d, &kConv2dBackwardInput, &kConv2dBackwardWeight}) register_op(*op);
}
}  // namespace internal

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, int64_t groups) {
  TG_CHECK(x.defined() && weight.defined(), "conv2d: input and weight must be defined");
  Attrs attrs = conv_attrs(stride, padding, dilation, groups);
  ops::conv2d_output_shape(x.shape(), weight.shape(), params(attrs));  // validate before recording
  return apply_op(kConv2d, {x, weight, bias}, attrs);
}

Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  Attrs attrs = conv_attrs(stride, padding, dilation, groups);
  attrs.set("input_shape", input_shape);
  return apply_op(kConv2dBackwardInput, {grad_out, weight}, attrs);
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& grad_out, const Shape& weight_shape,
                              Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  Attrs attrs = conv_attrs(stride, padding, dilation, groups);
  attrs.set("weight_shape", weight_shape);
  return apply_op(kConv2dBackwardWeight, {x, grad_out}, attrs);
}

}  // namespace tg
