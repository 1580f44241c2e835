// tapegrad/autograd/functions/conv.cc: op rows for conv2d, its two adjoints, the transposed
// convolution (conv_transpose2d: the input adjoint run forward, with output_padding and bias) and
// fused_conv2d (conv2d with a residual sum and ReLU in its epilogue, Note [Fused convolution] in
// ops/conv.h).
// Note [conv2d double backward]: with y = conv(x, w), Dx(g, w) and Dw(x, g) its adjoints,
//   d/dg <Dx(g,w), u> = conv(u, w)     d/dw <Dx(g,w), u> = Dw(u, g)
//   d/dg <Dw(x,g), u> = conv(x, u)     d/dx <Dw(x,g), u> = Dx(g, u)
// so all three rows are differentiable in terms of each other, to any order. conv_transpose2d(x, w)
// is Dx(x, w) onto the larger output shape, so its gradients are conv(g, w) and Dw(g, x).
#include "autograd/functions/spatial_attrs.h"

namespace tg {

using internal::Conv2dAttrs;
using internal::if_needed;

namespace {

// The adjoints and conv2d itself, applied with typed attributes (the rows' backwards use them).
Tensor apply_conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dAttrs& a);
Tensor apply_backward_input(const Tensor& grad_out, const Tensor& w, const Shape& input_shape, const Conv2dAttrs& a);
Tensor apply_backward_weight(const Tensor& x, const Tensor& grad_out, const Shape& weight_shape, const Conv2dAttrs& a);

// Nothing records a backward (inference): the weights may come packed from the cache.
ops::WeightPacking weight_packing(const ForwardContext& c) {
  return c.extras_needed ? ops::WeightPacking::kPerCall : ops::WeightPacking::kCached;
}

Size2 output_padding_attr(const Attrs& a) { return internal::size2_attr(a, "output_padding"); }

const std::vector<OnnxAttr> kOnnxConvAttrs = {{"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                                               {"dilations", "dilation"}, {"group", "groups"}};

const OpDef& kConv2d = define_op({
    .name = "conv2d",
    .forward = [](ForwardContext& c) {
      return ops::conv2d(c.in(0), c.in(1), c.has(2) ? c.in(2) : ops::Array(), Conv2dAttrs::decode(c.attrs).params(),
                         {}, weight_packing(c));
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Conv2dAttrs a = Conv2dAttrs::decode(c.attrs());
      return {if_needed(c, 0, [&] { return apply_backward_input(c.grad, c.input(1), c.input_shape(0), a); }),
              if_needed(c, 1, [&] { return apply_backward_weight(c.input(0), c.grad, c.input_shape(1), a); }),
              if_needed(c, 2, [&] { return sum(c.grad, {0, 2, 3}); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 3,
    .attr_schema = Conv2dAttrs::schema(),
    .onnx = {{.op_type = "Conv", .attrs = kOnnxConvAttrs}},
});

// Which of fused_conv2d's ONNX chains fits the node: the residual (input 3) and relu present or not.
template <bool kResidual, bool kRelu>
std::string fused_conv2d_is(const Attrs& a, const std::vector<bool>& present) {
  const bool residual = present.size() > 3 && present[3];
  return residual == kResidual && a.b("relu") == kRelu ? "" : "another form of fused_conv2d";
}
const OnnxMapping kOnnxFusedConv = {.op_type = "Conv", .inputs = {onnx_in(0), onnx_in(1), onnx_in(2)},
                                    .attrs = kOnnxConvAttrs};
const OnnxMapping kOnnxResidualAdd = {.op_type = "Add", .inputs = {onnx_step(0), onnx_in(3)}};

const OpDef& kFusedConv2d = define_op({
    .name = "fused_conv2d",
    .forward = [](ForwardContext& c) {
      return ops::conv2d(c.in(0), c.in(1), c.has(2) ? c.in(2) : ops::Array(), Conv2dAttrs::decode(c.attrs).params(),
                         {c.has(3) ? c.in(3) : ops::Array(), c.attrs.b("relu")}, weight_packing(c));
    },
    // y = relu(conv(x, w) + b + r): the gradient through the ReLU (its mask read from y), then
    // conv2d's adjoints, the bias's channel sums and the residual's identity.
    .backward = [](BackwardContext& c) -> Grads {
      const Conv2dAttrs a = Conv2dAttrs::decode(c.attrs());
      const Tensor g = c.attrs().b("relu") ? internal::relu_backward(c.grad, c.output()) : c.grad;
      return {if_needed(c, 0, [&] { return apply_backward_input(g, c.input(1), c.input_shape(0), a); }),
              if_needed(c, 1, [&] { return apply_backward_weight(c.input(0), g, c.input_shape(1), a); }),
              if_needed(c, 2, [&] { return sum(g, {0, 2, 3}); }), if_needed(c, 3, [&] { return g; })};
    },
    .save_inputs = {0, 1},
    .save_output = true,
    .min_inputs = 2,
    .max_inputs = 4,
    .attr_schema = Conv2dAttrs::schema({{"relu", AttrType::kBool}}),
    .onnx = {{.op_type = "Relu(Add(Conv, residual))",
              .refuse = fused_conv2d_is<true, true>,
              .steps = {kOnnxFusedConv, kOnnxResidualAdd, {.op_type = "Relu", .inputs = {onnx_step(1)}}}},
             {.op_type = "Add(Conv, residual)", .refuse = fused_conv2d_is<true, false>,
              .steps = {kOnnxFusedConv, kOnnxResidualAdd}},
             {.op_type = "Relu(Conv)",
              .refuse = fused_conv2d_is<false, true>,
              .steps = {kOnnxFusedConv, {.op_type = "Relu", .inputs = {onnx_step(0)}}}},
             {.op_type = "Conv", .refuse = fused_conv2d_is<false, false>, .steps = {kOnnxFusedConv}}},
});

const OpDef& kConv2dBackwardInput = define_op({
    .name = "conv2d_backward_input",
    .forward = [](ForwardContext& c) {
      return ops::conv2d_backward_input(c.in(0), c.in(1), c.attrs.ints("input_shape"),
                                        Conv2dAttrs::decode(c.attrs).params());
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Conv2dAttrs a = Conv2dAttrs::decode(c.attrs());
      return {if_needed(c, 0, [&] { return apply_conv2d(c.grad, c.input(1), Tensor(), a); }),
              if_needed(c, 1, [&] { return apply_backward_weight(c.grad, c.input(0), c.input_shape(1), a); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = Conv2dAttrs::schema({{"input_shape", AttrType::kInts, 4}}),
    .not_onnx = "backward-only row (the adjoint of conv2d)",
});

const OpDef& kConv2dBackwardWeight = define_op({
    .name = "conv2d_backward_weight",
    .forward = [](ForwardContext& c) {
      return ops::conv2d_backward_weight(c.in(0), c.in(1), c.attrs.ints("weight_shape"),
                                         Conv2dAttrs::decode(c.attrs).params());
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Conv2dAttrs a = Conv2dAttrs::decode(c.attrs());
      return {if_needed(c, 0, [&] { return apply_backward_input(c.input(1), c.grad, c.input_shape(0), a); }),
              if_needed(c, 1, [&] { return apply_conv2d(c.input(0), c.grad, Tensor(), a); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = Conv2dAttrs::schema({{"weight_shape", AttrType::kInts, 4}}),
    .not_onnx = "backward-only row (the weight adjoint of conv2d)",
});

const OpDef& kConvTranspose2d = define_op({
    .name = "conv_transpose2d",
    .forward = [](ForwardContext& c) {
      const Size2 op = output_padding_attr(c.attrs);
      return ops::conv_transpose2d(c.in(0), c.in(1), c.has(2) ? c.in(2) : ops::Array(),
                                   Conv2dAttrs::decode(c.attrs).params(), op.h, op.w);
    },
    .backward = [](BackwardContext& c) -> Grads {
      const Conv2dAttrs a = Conv2dAttrs::decode(c.attrs());
      return {if_needed(c, 0, [&] { return apply_conv2d(c.grad, c.input(1), Tensor(), a); }),
              if_needed(c, 1, [&] { return apply_backward_weight(c.grad, c.input(0), c.input_shape(1), a); }),
              if_needed(c, 2, [&] { return sum(c.grad, {0, 2, 3}); })};
    },
    .save_inputs = {0, 1},
    .min_inputs = 2,
    .max_inputs = 3,
    .attr_schema = Conv2dAttrs::schema({{"output_padding", AttrType::kInts, 2}}),
    .onnx = {{.op_type = "ConvTranspose",
              .attrs = {{"strides", "stride"}, {"pads", "padding", OnnxAttrForm::kPads2d},
                        {"dilations", "dilation"}, {"group", "groups"}, {"output_padding", "output_padding"}}}},
});

Tensor apply_conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dAttrs& a) {
  TG_CHECK(x.defined() && w.defined(), "conv2d: input and weight must be defined");
  ops::conv2d_output_shape(x.shape(), w.shape(), a.params());  // validate before recording
  return apply_op(kConv2d, {x, w, bias}, a.encode());
}
Tensor apply_backward_input(const Tensor& grad_out, const Tensor& w, const Shape& input_shape, const Conv2dAttrs& a) {
  Attrs attrs = a.encode();
  attrs.set("input_shape", input_shape);
  return apply_op(kConv2dBackwardInput, {grad_out, w}, attrs);
}
Tensor apply_backward_weight(const Tensor& x, const Tensor& grad_out, const Shape& weight_shape, const Conv2dAttrs& a) {
  Attrs attrs = a.encode();
  attrs.set("weight_shape", weight_shape);
  return apply_op(kConv2dBackwardWeight, {x, grad_out}, attrs);
}

}  // namespace


Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, int64_t groups) {
  return apply_conv2d(x, weight, bias, {stride, padding, dilation, groups});
}

Tensor fused_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& residual, bool relu,
                    Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  TG_CHECK(x.defined() && weight.defined(), "fused_conv2d: input and weight must be defined");
  const Conv2dAttrs a{stride, padding, dilation, groups};
  const Shape out = ops::conv2d_output_shape(x.shape(), weight.shape(), a.params(), "fused_conv2d");
  TG_CHECK(!residual.defined() || residual.shape() == out, "fused_conv2d: residual ", shape_str(residual.shape()),
           " must have the output's shape ", shape_str(out), " (input ", shape_str(x.shape()), ", weight ",
           shape_str(weight.shape()), ")");
  Attrs attrs = a.encode();
  attrs.set("relu", relu);
  return apply_op(kFusedConv2d, {x, weight, bias, residual}, attrs);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                        Size2 output_padding, int64_t groups, Size2 dilation) {
  TG_CHECK(x.defined() && weight.defined(), "conv_transpose2d: input and weight must be defined");
  const Conv2dAttrs a{stride, padding, dilation, groups};
  ops::conv_transpose2d_output_shape(x.shape(), weight.shape(), a.params(), output_padding.h, output_padding.w);
  Attrs attrs = a.encode();
  attrs.set("output_padding", internal::pair(output_padding));
  return apply_op(kConvTranspose2d, {x, weight, bias}, attrs);
}

Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  return apply_backward_input(grad_out, weight, input_shape, {stride, padding, dilation, groups});
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& grad_out, const Shape& weight_shape,
                              Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  return apply_backward_weight(x, grad_out, weight_shape, {stride, padding, dilation, groups});
}

}  // namespace tg
