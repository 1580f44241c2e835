// tapegrad/autograd/functions/index.cc: op rows for index_select <-> index_add and
// gather <-> scatter_add (each pair is the other's adjoint, so both are twice differentiable).
#include "autograd/functions/common.h"
#include "ops/index.h"

namespace tg {

using internal::if_needed;

namespace {

const OpDef& kIndexSelect = define_op({
    .name = "index_select",
    .forward = [](ForwardContext& c) { return ops::index_select(c.in(0), c.attrs.i("dim"), c.in(1)); },
    .backward = [](BackwardContext& c) -> Grads {
      return {index_add(c.input_shape(0), c.attrs().i("dim"), c.input(1), c.grad), Tensor()};
    },
    .save_inputs = {1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "Gather", .attrs = {{"axis", "dim"}}}},
});

const OpDef& kIndexAdd = define_op({
    .name = "index_add",
    .forward = [](ForwardContext& c) {
      return ops::index_add(c.attrs.ints("shape"), c.attrs.i("dim"), c.in(0), c.in(1));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {Tensor(), index_select(c.grad, c.attrs().i("dim"), c.input(0))};
    },
    .save_inputs = {0},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"shape", AttrType::kInts}, {"dim", AttrType::kInt}},
    .not_onnx = "no scatter-add into a new tensor in opset 13 (ScatterND reduction=add is opset 16)",
});

const OpDef& kGather = define_op({
    .name = "gather",
    .forward = [](ForwardContext& c) { return ops::gather(c.in(0), c.attrs.i("dim"), c.in(1)); },
    .backward = [](BackwardContext& c) -> Grads {
      return {scatter_add(c.input_shape(0), c.attrs().i("dim"), c.input(1), c.grad), Tensor()};
    },
    .save_inputs = {1},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"dim", AttrType::kInt}},
    .onnx = {{.op_type = "GatherElements", .attrs = {{"axis", "dim"}}}},
});

const OpDef& kScatterAdd = define_op({
    .name = "scatter_add",
    .forward = [](ForwardContext& c) {
      return ops::scatter_add(c.attrs.ints("shape"), c.attrs.i("dim"), c.in(0), c.in(1));
    },
    .backward = [](BackwardContext& c) -> Grads {
      return {Tensor(), gather(c.grad, c.attrs().i("dim"), c.input(0))};
    },
    .save_inputs = {0},
    .min_inputs = 2,
    .max_inputs = 2,
    .attr_schema = {{"shape", AttrType::kInts}, {"dim", AttrType::kInt}},
    .not_onnx = "no scatter-add into a new tensor in opset 13 (ScatterElements reduction=add is opset 16)",
});

}  // namespace


Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  TG_CHECK(x.dim() > 0, "index_select: tensor must have at least one dimension");
  return apply_op(kIndexSelect, {x, index}, {{"dim", ops::wrap_dim(dim, x.dim(), "index_select")}});
}
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& source) {
  return apply_op(kIndexAdd, {index, source},
                  {{"shape", shape}, {"dim", ops::wrap_dim(dim, shape.size(), "index_add")}});
}
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  return apply_op(kGather, {x, index}, {{"dim", ops::wrap_dim(dim, x.dim(), "gather")}});
}
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& source) {
  return apply_op(kScatterAdd, {index, source},
                  {{"shape", shape}, {"dim", ops::wrap_dim(dim, shape.size(), "scatter_add")}});
}

}  // namespace tg
