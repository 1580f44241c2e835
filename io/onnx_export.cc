// tapegrad/io/onnx_export.cc: one mapping per op row; tensors become ONNX initializers.
#include "io/onnx_export.h"

#include "absl/strings/str_cat.h"
#include "io/attributes_proto.h"
#include "io/file_io.h"
#include "io/tensor_proto.h"
#include "io/trace.h"
#include "onnx/checker.h"

namespace tg::io {

namespace {

int onnx_type(proto::DataType t) {
  switch (t) {
    case proto::FLOAT32: return onnx::TensorProto::FLOAT;
    case proto::FLOAT64: return onnx::TensorProto::DOUBLE;
    case proto::INT64: return onnx::TensorProto::INT64;
    case proto::BOOL: return onnx::TensorProto::BOOL;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

void add_initializer(onnx::GraphProto* g, const std::string& name, const proto::TensorProto& t) {
  onnx::TensorProto* o = g->add_initializer();
  o->set_name(name);
  o->set_data_type(onnx_type(t.dtype()));
  for (int64_t d : t.shape()) o->add_dims(d);
  o->set_raw_data(t.raw_data());
}

void add_int64_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& values) {
  onnx::TensorProto* o = g->add_initializer();
  o->set_name(name);
  o->set_data_type(onnx::TensorProto::INT64);
  o->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) o->add_int64_data(v);
}

void set_value_info(onnx::ValueInfoProto* v, const proto::ValueInfoProto& info) {
  v->set_name(info.name());
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx_type(info.dtype()));
  for (int64_t d : info.shape()) {
    auto* dim = tensor->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
void attr_int(onnx::NodeProto* n, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}
void attr_float(onnx::NodeProto* n, const std::string& name, double value) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(static_cast<float>(value));
}

// pads [h, w] -> ONNX [h_begin, w_begin, h_end, w_end]
std::vector<int64_t> onnx_pads(const std::vector<int64_t>& p) { return {p[0], p[1], p[0], p[1]}; }

}  // namespace

absl::StatusOr<onnx::ModelProto> to_onnx(const proto::GraphProto& graph, const std::string& graph_name) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("tapegrad");
  model.set_producer_version(kProducer);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph_name);
  for (const auto& v : graph.inputs()) set_value_info(g->add_input(), v);
  for (const auto& v : graph.outputs()) set_value_info(g->add_output(), v);
  for (const auto* group : {&graph.parameters(), &graph.buffers(), &graph.constants()}) {
    for (const auto& t : *group) add_initializer(g, t.name(), t.tensor());
  }
  int helper = 0;
  auto fresh = [&](const std::string& what) { return absl::StrCat("onnx_", what, "_", helper++); };
  for (int i = 0; i < graph.nodes_size(); ++i) {
    const proto::NodeProto& n = graph.nodes(i);
    const std::string where = absl::StrCat("to_onnx: graph.nodes[", i, "] (", n.op(), ")");
    auto attrs_or = from_proto(n.attributes(), where);
    if (!attrs_or.ok()) return attrs_or.status();
    const Attrs& a = *attrs_or;
    onnx::NodeProto* o = g->add_node();
    o->set_name(absl::StrCat(n.op(), "_", i));
    o->add_output(n.output());
    auto inputs = [&](std::initializer_list<int> which) {
      for (int k : which) o->add_input(k < n.inputs_size() ? n.inputs(k) : "");
    };
    try {
      const std::string& op = n.op();
      static const std::map<std::string, std::string> kElementwise = {
          {"add", "Add"}, {"sub", "Sub"}, {"mul", "Mul"}, {"div", "Div"}, {"pow", "Pow"},
          {"neg", "Neg"}, {"exp", "Exp"}, {"log", "Log"}, {"sqrt", "Sqrt"}, {"abs", "Abs"},
          {"relu", "Relu"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"matmul", "MatMul"}};
      if (auto it = kElementwise.find(op); it != kElementwise.end()) {
        o->set_op_type(it->second);
        for (const auto& in : n.inputs()) o->add_input(in);
      } else if (op == "conv2d") {
        o->set_op_type("Conv");
        inputs({0, 1});
        if (n.inputs_size() > 2 && !n.inputs(2).empty()) o->add_input(n.inputs(2));
        attr_ints(o, "strides", a.ints("stride"));
        attr_ints(o, "pads", onnx_pads(a.ints("padding")));
        attr_ints(o, "dilations", a.ints("dilation"));
        attr_int(o, "group", a.i("groups"));
      } else if (op == "max_pool2d" || op == "avg_pool2d") {
        o->set_op_type(op == "max_pool2d" ? "MaxPool" : "AveragePool");
        inputs({0});
        attr_ints(o, "kernel_shape", a.ints("kernel"));
        attr_ints(o, "strides", a.ints("stride"));
        attr_ints(o, "pads", onnx_pads(a.ints("padding")));
        if (op == "avg_pool2d") attr_int(o, "count_include_pad", a.has("count_include_pad") && a.b("count_include_pad"));
      } else if (op == "leaky_relu") {
        o->set_op_type("LeakyRelu");
        inputs({0});
        attr_float(o, "alpha", a.f("negative_slope"));
      } else if (op == "softmax" || op == "log_softmax") {
        o->set_op_type(op == "softmax" ? "Softmax" : "LogSoftmax");
        inputs({0});
        attr_int(o, "axis", a.i("dim"));
      } else if (op == "permute") {
        o->set_op_type("Transpose");
        inputs({0});
        attr_ints(o, "perm", a.ints("dims"));
      } else if (op == "flatten") {
        const int64_t start = a.i("start_dim"), end = a.i("end_dim");
        if (start == 1 && end == -1) {
          o->set_op_type("Flatten");  // [N, rest]
          inputs({0});
          attr_int(o, "axis", 1);
        } else {
          // Keep the dims before start (0 = copy from input in Reshape), merge the rest.
          std::vector<int64_t> shape(start, 0);
          shape.push_back(-1);
          if (end != -1) return absl::UnimplementedError(absl::StrCat(where, ": flatten up to a middle dim has no ONNX mapping"));
          const std::string shape_name = fresh("shape");
          add_int64_initializer(g, shape_name, shape);
          o->set_op_type("Reshape");
          inputs({0});
          o->add_input(shape_name);
        }
      } else if (op == "reshape") {
        const std::string shape_name = fresh("shape");
        add_int64_initializer(g, shape_name, a.ints("shape"));
        o->set_op_type("Reshape");
        inputs({0});
        o->add_input(shape_name);
      } else if (op == "dropout") {
        o->set_op_type("Identity");  // inference graph
        inputs({0});
      } else if (op == "clamp") {
        o->set_op_type("Clip");
        inputs({0});
        // Clip takes min/max as scalar inputs; an empty name skips one.
        for (const char* bound : {"min", "max"}) {
          if (!a.has(bound)) {
            o->add_input("");
            continue;
          }
          const std::string name = fresh(bound);
          onnx::TensorProto* t = g->add_initializer();
          t->set_name(name);
          t->set_data_type(onnx::TensorProto::FLOAT);
          t->add_float_data(static_cast<float>(a.f(bound)));
          o->add_input(name);
        }
      } else if (op == "batch_norm") {
        // BatchNormalization(X, scale, B, mean, var): tapegrad inputs are (x, mean, var, w?, b?).
        if (n.inputs_size() < 3 || n.inputs(1).empty() || n.inputs(2).empty()) {
          return absl::UnimplementedError(absl::StrCat(where, ": batch_norm without running statistics has no ONNX inference mapping"));
        }
        o->set_op_type("BatchNormalization");
        o->add_input(n.inputs(0));
        for (int k : {3, 4}) {
          if (k < n.inputs_size() && !n.inputs(k).empty()) {
            o->add_input(n.inputs(k));
          } else {
            return absl::UnimplementedError(absl::StrCat(where, ": batch_norm without affine weight and bias is not exported"));
          }
        }
        o->add_input(n.inputs(1));
        o->add_input(n.inputs(2));
        attr_float(o, "epsilon", a.f("eps"));
        attr_float(o, "momentum", 1.0 - a.f("momentum"));
      } else {
        return absl::UnimplementedError(absl::StrCat(where, ": op '", op, "' has no ONNX mapping"));
      }
    } catch (const Error& e) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
    }
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("to_onnx: the exported model fails onnx::checker: ", e.what()));
  }
  return model;
}

absl::StatusOr<onnx::ModelProto> to_onnx(nn::Module& module, const Tensor& example_input) {
  auto graph = trace(module, example_input);
  if (!graph.ok()) return graph.status();
  return to_onnx(*graph);
}

absl::Status save_onnx(const onnx::ModelProto& model, const std::string& path) {
  return write_file_atomically(path, serialize_deterministic(model));
}

}  // namespace tg::io
