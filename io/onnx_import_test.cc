// tapegrad/io/onnx_import_test.cc: ONNX import beyond the conformance suite: models exported by
// PyTorch (tests/reference/onnx_models_reference.py) give PyTorch's outputs, gradients and SGD
// steps, at other batch sizes too; an imported model saves as a .tgm; malformed models get an
// error naming the node and field, never a crash.
#include <cmath>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/files.h"
#include "io/model_file.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/onnx_tensor.h"
#include "io/testing/tmp_path.h"
#include "optim/sgd.h"

namespace tg::io {
namespace {

const std::string kModels = "tests/reference/onnx_models/";

Tensor read_tensor(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  onnx::TensorProto t;
  EXPECT_TRUE(t.ParseFromString(*bytes)) << path;
  auto value = tensor_from_onnx(t, path);
  EXPECT_TRUE(value.ok()) << value.status();
  return *value;
}

// max |got - want| / (atol + rtol |want|) <= 1, with the worst element in the message.
::testing::AssertionResult close(const Tensor& got, const Tensor& want, double atol, double rtol) {
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_str(got.shape()) << " vs " << shape_str(want.shape());
  }
  const auto g = to_dtype(got, kFloat64).to_vector<double>(), w = to_dtype(want, kFloat64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (!(std::fabs(g[i] - w[i]) <= atol + rtol * std::fabs(w[i]))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << g[i] << " vs " << w[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::shared_ptr<OnnxModule> load(const std::string& name) {
  auto model = load_onnx(kModels + name + "/model.onnx");
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? model->module : nullptr;
}

class PyTorchModel : public ::testing::TestWithParam<std::string> {};

TEST_P(PyTorchModel, OutputsAndGradientsMatchPyTorch) {
  const std::string dir = kModels + GetParam() + "/";
  auto m = load(GetParam());
  ASSERT_NE(m, nullptr);
  m->eval();
  const Tensor x = read_tensor(dir + "input.pb"), weights = read_tensor(dir + "weights.pb");
  const Tensor y = m->forward(x);
  EXPECT_TRUE(close(y, read_tensor(dir + "output.pb"), 1e-5, 1e-4));
  m->zero_grad();
  sum(y * weights).backward();
  int checked = 0;
  for (const auto& [name, p] : m->named_parameters()) {
    const std::string ref = dir + "grad/" + name + ".pb";
    ASSERT_TRUE(std::filesystem::exists(ref)) << name << " is a parameter here but not in PyTorch's model";
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_TRUE(close(p.grad(), read_tensor(ref), 1e-4, 1e-3)) << name;
    ++checked;
  }
  int expected = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "grad")) expected += e.is_regular_file();
  EXPECT_EQ(checked, expected) << "every PyTorch parameter is a tapegrad parameter";
}

TEST_P(PyTorchModel, SgdStepsInTrainModeMatchPyTorch) {
  const std::string dir = kModels + GetParam() + "/";
  auto m = load(GetParam());
  ASSERT_NE(m, nullptr);
  m->train();
  const Tensor x = read_tensor(dir + "input.pb"), weights = read_tensor(dir + "weights.pb");
  std::vector<Tensor> params;
  for (const auto& [name, p] : m->named_parameters()) params.push_back(p);
  optim::SGD sgd(params, 0.05);
  const std::vector<float> losses = read_tensor(dir + "losses.pb").to_vector<float>();
  for (size_t step = 0; step < losses.size(); ++step) {
    sgd.zero_grad();
    const Tensor loss = sum(m->forward(x) * weights);
    EXPECT_NEAR(loss.item<double>(), losses[step], 1e-3 * (1 + std::fabs(losses[step]))) << "step " << step;
    loss.backward();
    sgd.step();
  }
  for (const auto& [name, p] : m->named_parameters()) {
    EXPECT_TRUE(close(p, read_tensor(dir + "trained/" + name + ".pb"), 1e-4, 1e-3)) << name;
  }
}

// The batch is a symbolic dimension: a batch of 5 holding the reference batch first gives the
// reference outputs in its first rows (the Shape/Gather/Reshape chains run on the actual shape).
TEST_P(PyTorchModel, OtherBatchSizesGiveTheSameRows) {
  const std::string dir = kModels + GetParam() + "/";
  auto m = load(GetParam());
  ASSERT_NE(m, nullptr);
  m->eval();
  NoGradGuard no_grad;
  const Tensor x = read_tensor(dir + "input.pb");
  const Tensor bigger = cat({x, narrow(x, 0, 0, 2)}, 0);
  const Tensor y = m->forward(bigger);
  ASSERT_EQ(y.size(0), 5);
  EXPECT_TRUE(close(narrow(y, 0, 0, 3), read_tensor(dir + "output.pb"), 1e-5, 1e-4));
  EXPECT_TRUE(close(narrow(y, 0, 3, 2), narrow(y, 0, 0, 2), 1e-6, 1e-5));
}

// An imported model traces into a .tgm (the format tapegrad's own models use) that gives the
// same outputs. The CNN's graph holds at any batch; the transformer's and the LSTM's record their
// batch (attention reshapes to [seq, batch * heads, ...], the LSTM's zero state is [dirs, batch,
// hidden]: the .tgm format has no shape arithmetic yet), so their files fix the batch and refuse
// another one by name.
TEST_P(PyTorchModel, SavesAsATgmThatRunsTheSame) {
  const std::string dir = kModels + GetParam() + "/";
  auto m = load(GetParam());
  ASSERT_NE(m, nullptr);
  m->eval();
  const Tensor x = read_tensor(dir + "input.pb");
  const std::string path = testing::tmp_path("imported_" + GetParam() + ".tgm");
  const absl::Status saved = save_model(*m, x, path);
  ASSERT_TRUE(saved.ok()) << saved;
  auto loaded = load_model(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  loaded->module->eval();
  NoGradGuard no_grad;
  EXPECT_TRUE(close(loaded->module->forward(x), read_tensor(dir + "output.pb"), 1e-5, 1e-4));
  const Tensor five = cat({x, narrow(x, 0, 0, 2)}, 0);
  const std::set<std::string> batch_free = {"cnn", "resnet", "dcgan", "mlp"};
  if (batch_free.count(GetParam())) {
    EXPECT_EQ(loaded->module->input_shape()[0], -1);
    EXPECT_TRUE(close(loaded->module->forward(five), m->forward(five), 1e-6, 1e-5));
  } else {
    EXPECT_EQ(loaded->module->input_shape()[0], 3);
    EXPECT_THROW(loaded->module->forward(five), Error);
  }
}

// ONNX Runtime on PyTorch's file gives PyTorch's outputs (so the reference is the file's meaning,
// not an exporter quirk), and the imported model exported again by tapegrad (to_onnx) runs in
// ONNX Runtime with the same outputs: the graph flows in and out.
TEST_P(PyTorchModel, OnnxRuntimeAgreesOnTheFileAndOnItsReexport) {
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "Node.js is not installed";
  const std::string dir = kModels + GetParam() + "/";
  auto m = load(GetParam());
  ASSERT_NE(m, nullptr);
  m->eval();
  const Tensor x = read_tensor(dir + "input.pb"), want = read_tensor(dir + "output.pb");
  auto reexported = to_onnx(*m, x);
  ASSERT_TRUE(reexported.ok()) << reexported.status();
  const std::string base = testing::tmp_path("ort_" + GetParam());
  ASSERT_TRUE(save_onnx(*reexported, base + "_reexported.onnx").ok());
  const ops::Array in = x.data().contiguous();
  std::ofstream(base + ".in", std::ios::binary)
      .write(static_cast<const char*>(in.raw_data()), in.numel() * static_cast<int64_t>(dtype_size(in.dtype())));
  std::string dims = x.dtype() == kInt64 ? "int64:" : "";
  for (size_t i = 0; i < x.shape().size(); ++i) dims += (i ? "," : "") + std::to_string(x.shape()[i]);
  const std::string cmd = "node tools/onnxruntime/run_model.js " + dir + "model.onnx " + base + ".in " + dims + " " +
                          base + "_file.out " + base + "_reexported.onnx " + base + ".in " + dims + " " + base +
                          "_reexported.out";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const char* which : {"_file.out", "_reexported.out"}) {
    auto bytes = read_file(base + which);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_EQ(bytes->size(), static_cast<size_t>(want.numel()) * 4) << which;
    std::vector<float> values(want.numel());
    std::memcpy(values.data(), bytes->data(), bytes->size());
    EXPECT_TRUE(close(tensor(values).view(want.shape()), want, 1e-5, 1e-4)) << which;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, PyTorchModel,
                         ::testing::Values("cnn", "transformer", "lstm", "resnet", "gpt", "gru", "dcgan", "mlp"),
                         [](const auto& info) { return info.param; });

TEST(OnnxImport, BatchNormStatisticsAreBuffersAndTrainModeUpdatesThem) {
  auto m = load("cnn");
  ASSERT_NE(m, nullptr);
  std::map<std::string, Tensor> buffers;
  for (const auto& [n, b] : m->named_buffers()) buffers[n] = b.clone();
  ASSERT_EQ(buffers.size(), 2u);
  ASSERT_TRUE(buffers.count("bn.running_mean") && buffers.count("bn.running_var"));
  for (const auto& [n, p] : m->named_parameters()) EXPECT_EQ(n.find("running"), std::string::npos) << n;
  NoGradGuard no_grad;
  const Tensor x = read_tensor(kModels + "cnn/input.pb");
  m->eval();
  m->forward(x);
  for (const auto& [n, b] : m->named_buffers()) EXPECT_TRUE(equal(b, buffers[n])) << n << " moved in eval mode";
  m->train();
  m->forward(x);
  for (const auto& [n, b] : m->named_buffers()) EXPECT_FALSE(equal(b, buffers[n])) << n << " did not move in train mode";
}

// Note [Inference fusion on import]: in eval mode without gradients the Conv + BatchNormalization
// pairs run as one Conv and the Adds and Relus after them in its epilogue, equal to PyTorch's
// outputs and to the unfused graph to rounding; the folded weights follow the statistics and
// parameters when they change (train mode, an SGD step).
TEST(OnnxImport, ConvolutionChainsFuseInEvalWithoutGradients) {
  auto folded = load("resnet");
  auto plain = load_onnx(kModels + "resnet/model.onnx", {.fuse_for_inference = false});
  ASSERT_NE(folded, nullptr);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_GE(folded->num_folded_batch_norms(), 3);
  EXPECT_GE(folded->num_fused_convolutions(), 3);
  EXPECT_EQ(plain->module->num_folded_batch_norms(), 0);
  EXPECT_EQ(plain->module->num_fused_convolutions(), 0);
  const Tensor x = read_tensor(kModels + "resnet/input.pb");
  auto eval_outputs = [&](OnnxModule& m, bool with_grad) {
    m.eval();
    if (with_grad) return m.forward(x).detach();
    NoGradGuard no_grad;
    return m.forward(x);
  };
  EXPECT_TRUE(close(eval_outputs(*folded, false), read_tensor(kModels + "resnet/output.pb"), 1e-5, 1e-4));
  EXPECT_TRUE(close(eval_outputs(*folded, false), eval_outputs(*plain->module, false), 1e-6, 1e-5));
  // Statistics move in train mode, parameters in an SGD step: the next eval call folds them anew.
  optim::SGD sgd(folded->parameters(), 0.1);
  optim::SGD sgd_plain(plain->module->parameters(), 0.1);
  for (OnnxModule* m : {folded.get(), plain->module.get()}) {
    m->train();
    m->forward(x).sum().backward();
  }
  EXPECT_TRUE(close(eval_outputs(*folded, false), eval_outputs(*plain->module, false), 1e-6, 1e-5)) << "statistics";
  sgd.step();
  sgd_plain.step();
  const Tensor after = eval_outputs(*folded, false);
  EXPECT_TRUE(close(after, eval_outputs(*plain->module, false), 1e-6, 1e-5));
  EXPECT_TRUE(close(after, eval_outputs(*folded, true), 1e-6, 1e-5)) << "with gradients: the unfolded graph";
  EXPECT_FALSE(close(after, read_tensor(kModels + "resnet/output.pb"), 1e-5, 1e-4)) << "the step changed nothing";
}

// Appends node `op` reading `inputs` and writing `output` to a hand-built graph.
onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& inputs,
                          const std::string& output) {
  auto* n = g->add_node();
  n->set_op_type(op);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

// A float32 graph input or output named `name`, and an initializer whose i-th value is value(i).
void add_float_input(onnx::GraphProto* g, const std::string& name) {
  auto* in = g->add_input();
  in->set_name(name);
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}
void add_float_output(onnx::GraphProto* g, const std::string& name) {
  auto* out = g->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}
void add_initializer(onnx::GraphProto* g, const std::string& name, const Shape& shape,
                     const std::function<double(int64_t)>& value) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : shape) {
    t->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) t->add_float_data(static_cast<float>(value(i)));
}

// The GELU node chains torch.onnx writes (Div, Erf, Add, Mul, Mul) run as one gelu in eval
// without gradients: the same outputs as the file's nodes, to rounding.
TEST(OnnxImport, GeluChainsFuseInEvalWithoutGradients) {
  for (const std::string name : {"gpt", "transformer"}) {
    auto fused = load(name);
    auto plain = load_onnx(kModels + name + "/model.onnx", {.fuse_for_inference = false});
    ASSERT_NE(fused, nullptr);
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_GE(fused->num_fused_gelus(), 1) << name;
    EXPECT_EQ(plain->module->num_fused_gelus(), 0) << name;
    const Tensor x = read_tensor(kModels + name + "/input.pb");
    fused->eval();
    plain->module->eval();
    NoGradGuard no_grad;
    EXPECT_TRUE(close(fused->forward(x), plain->module->forward(x), 1e-5, 1e-5)) << name;
  }
}

// y = Relu(Add(Conv(x, w, b), residual)) built by hand, the residual computed after the Conv
// (Neg of a second input, or a [3, 1, 1] initializer the Add broadcasts): the chain runs at its
// last node, a broadcasting Add falls back to the separate ops, and a Conv output read twice is
// not fused.
onnx::ModelProto conv_add_relu_model(bool broadcast_residual, bool conv_read_twice) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  auto input = [&](const std::string& name) { add_float_input(g, name); };
  auto initializer = [&](const std::string& name, const Shape& shape) {
    add_initializer(g, name, shape, [&](int64_t i) { return std::sin(1.7 * static_cast<double>(i + shape.size())); });
  };
  input("x");
  initializer("w", {3, 2, 3, 3});
  initializer("b", {3});
  auto* conv = add_node(g, "Conv", {"x", "w", "b"}, "c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  if (broadcast_residual) {
    initializer("r", {3, 1, 1});
  } else {
    input("x2");
    add_node(g, "Neg", {"x2"}, "r");
  }
  add_node(g, "Add", {"r", "c"}, "s");
  add_node(g, "Relu", {"s"}, "y");
  add_float_output(g, "y");
  if (conv_read_twice) {
    add_node(g, "Sigmoid", {"c"}, "z");
    add_float_output(g, "z");
  }
  return model;
}

TEST(OnnxImport, ConvAddReluChainsFuseWhereTheyCan) {
  manual_seed(3);
  const Tensor x = randn({2, 2, 5, 5}), x2 = randn({2, 3, 5, 5});
  for (bool broadcast : {false, true}) {
    for (bool twice : {false, true}) {
      const std::string what = std::string(broadcast ? "broadcast residual" : "residual") + (twice ? ", conv read twice" : "");
      const std::string bytes = conv_add_relu_model(broadcast, twice).SerializeAsString();
      auto fused = parse_onnx(bytes, "test.onnx");
      auto plain = parse_onnx(bytes, "test.onnx", {.fuse_for_inference = false});
      ASSERT_TRUE(fused.ok() && plain.ok()) << fused.status() << plain.status();
      EXPECT_EQ(fused->module->num_fused_convolutions(), twice ? 0 : 1) << what;
      const std::vector<Tensor> inputs = broadcast ? std::vector<Tensor>{x} : std::vector<Tensor>{x, x2};
      for (auto* m : {fused->module.get(), plain->module.get()}) m->eval();
      const std::vector<Tensor> with_grad = fused->module->forward(inputs);  // the separate ops
      NoGradGuard no_grad;
      const std::vector<Tensor> got = fused->module->forward(inputs), want = plain->module->forward(inputs);
      ASSERT_EQ(got.size(), want.size());
      for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_TRUE(close(got[k], want[k], 1e-6, 1e-6)) << what << ", output " << k;
        EXPECT_TRUE(close(with_grad[k].detach(), want[k], 0, 0)) << what << ", output " << k;
      }
      EXPECT_GT(got[0].min().item<double>(), -1e-30) << what;  // the ReLU ran
    }
  }
}

// A ResNet-shaped graph built by hand for Note [Kernel layout on import]: stem Conv -> Relu; a
// block Conv -> Relu -> Conv -> Add(stem) -> Relu; a downsampling block whose residual is a lone
// strided 1x1 Conv (or, with broadcast_residual, a [32, 1, 1] initializer the Add broadcasts);
// GlobalAveragePool. With block_output_too the first block's result is also a graph output; with
// residual_read_later a third block on the first block's result adds the stem's output again.
onnx::ModelProto resnet_like_model(bool block_output_too, bool broadcast_residual, bool residual_read_later = false) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  add_float_input(g, "x");
  auto initializer = [&](const std::string& name, const Shape& shape) {  // fan-in scaled
    int64_t fan_in = 1;
    for (size_t d = 1; d < shape.size(); ++d) fan_in *= shape[d];
    add_initializer(g, name, shape, [&](int64_t i) {
      return std::sin(1.3 * static_cast<double>(i) + static_cast<double>(shape[0])) / std::sqrt(static_cast<double>(fan_in));
    });
  };
  auto conv = [&](const std::string& x, const std::string& w, const std::string& out, int64_t stride, int64_t pad) {
    auto* n = add_node(g, "Conv", {x, w}, out);
    auto* s = n->add_attribute();
    s->set_name("strides");
    s->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 2; ++i) s->add_ints(stride);
    auto* p = n->add_attribute();
    p->set_name("pads");
    p->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) p->add_ints(pad);
  };
  initializer("w0", {16, 3, 3, 3});
  initializer("w1", {16, 16, 3, 3});
  initializer("w3", {32, 16, 3, 3});
  initializer("w4", {32, 32, 3, 3});
  conv("x", "w0", "c0", 1, 1);
  add_node(g, "Relu", {"c0"}, "r0");
  conv("r0", "w1", "c1", 1, 1);
  add_node(g, "Relu", {"c1"}, "r1");
  conv("r1", "w1", "c2", 1, 1);
  add_node(g, "Add", {"c2", "r0"}, "s2");
  add_node(g, "Relu", {"s2"}, "r2");
  conv("r2", "w3", "c3", 2, 1);
  add_node(g, "Relu", {"c3"}, "r3");
  if (broadcast_residual) {
    initializer("p", {32, 1, 1});
  } else {
    initializer("wp", {32, 16, 1, 1});
    conv("r2", "wp", "p", 2, 0);
  }
  conv("r3", "w4", "c4", 1, 1);
  add_node(g, "Add", {"p", "c4"}, "s4");
  add_node(g, "Relu", {"s4"}, "r4");
  add_node(g, "GlobalAveragePool", {"r4"}, "y");
  add_float_output(g, "y");
  if (block_output_too) add_float_output(g, "r2");
  if (residual_read_later) {  // another block on r2 whose residual is the stem's r0 again
    conv("r2", "w1", "c5", 1, 1);
    add_node(g, "Add", {"c5", "r0"}, "s5");
    add_node(g, "Relu", {"s5"}, "r5");
    add_node(g, "GlobalAveragePool", {"r5"}, "late");
    add_float_output(g, "late");
  }
  return model;
}

// Convolution chains whose results only other chains read keep them in the kernel's layout; the
// outputs equal the unfused graph's from NCHW and channels-last input; a chain whose result is also
// a graph output converts it, and a broadcasting residual falls back to the separate ops (taking
// its input out of the kernel's layout first).
TEST(OnnxImport, ConvolutionChainsKeepTheKernelsLayoutBetweenThem) {
  manual_seed(5);
  const Tensor x = randn({2, 3, 12, 12});
  struct Case {
    bool block_output_too, broadcast_residual;
    int64_t kept, runs;
    bool residual_read_later = false;
  };
  // Chains: stem, block conv 1, block conv 2 (+ stem), down conv 1, then the projection with the
  // second Add and Relu (the Add joins the first Conv that reaches it; down conv 2 is its residual)
  // and down conv 2 alone. With the block's result a graph output, the projection's chain gets
  // plain input and gives a plain result: it runs as before, its residual converted.
  // Note [Releasing values]: where the chains' residuals are last read by their chains (the first
  // two cases), the convolutions add into the residuals' buffers; where the block's residual is
  // read again later, it must come out unchanged.
  for (const Case& c : {Case{false, false, 5, 6}, Case{true, false, 4, 5}, Case{false, true, 4, 4},
                        Case{false, false, 5, 7, true}}) {
    const std::string what = std::string(c.block_output_too ? "block output too" : "") +
                             (c.broadcast_residual ? "broadcast residual" : "") +
                             (c.residual_read_later ? "residual read later" : "");
    const std::string bytes =
        resnet_like_model(c.block_output_too, c.broadcast_residual, c.residual_read_later).SerializeAsString();
    auto fused = parse_onnx(bytes, "test.onnx");
    auto plain = parse_onnx(bytes, "test.onnx", {.fuse_for_inference = false});
    ASSERT_TRUE(fused.ok() && plain.ok()) << fused.status() << plain.status();
    EXPECT_EQ(fused->module->num_kernel_layout_convolutions(), c.kept) << what;
    EXPECT_EQ(plain->module->num_kernel_layout_convolutions(), 0) << what;
    for (auto* m : {fused->module.get(), plain->module.get()}) m->eval();
    NoGradGuard no_grad;
    for (bool last : {false, true}) {
      const Tensor input = last ? x.contiguous(MemoryFormat::ChannelsLast) : x;
      const std::vector<Tensor> got = fused->module->forward(std::vector<Tensor>{input}),
                                want = plain->module->forward(std::vector<Tensor>{input});
      EXPECT_EQ(fused->module->kernel_layout_runs(), c.runs) << what;
      ASSERT_EQ(got.size(), want.size());
      for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_TRUE(close(got[k], want[k], 1e-5, 1e-5)) << what << (last ? " channels last" : "") << ", output " << k;
        EXPECT_EQ(got[k].shape(), want[k].shape());
      }
      if (c.block_output_too) {
        EXPECT_EQ(got[1].is_contiguous(MemoryFormat::ChannelsLast) && !got[1].is_contiguous(), last)
            << "a converted value takes the input's memory format";
      }
    }
  }
}

// softmax(Where(blocked, -inf, MatMul(q, kt) * scale), axis) @ v built by hand, the way
// torch.onnx exports masked_fill attention: fused into one scaled_dot_product_attention where the
// shapes allow (causal or any mask), the separate nodes where they do not (MatMul broadcasting
// its leading dims, a softmax over another axis); the same values either way.
onnx::ModelProto attention_model(int64_t softmax_axis, bool scale_by_division) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  for (const char* name : {"q", "kt", "v", "blocked"}) {
    auto* in = g->add_input();
    in->set_name(name);
    in->mutable_type()->mutable_tensor_type()->set_elem_type(std::string(name) == "blocked" ? onnx::TensorProto::BOOL
                                                                                          : onnx::TensorProto::FLOAT);
  }
  auto scalar = [&](const std::string& name, float value) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
  };
  scalar("scale", scale_by_division ? 2.5f : 0.4f);
  scalar("fill", -std::numeric_limits<float>::infinity());
  add_node(g, "MatMul", {"q", "kt"}, "s");
  add_node(g, scale_by_division ? "Div" : "Mul", scale_by_division ? std::vector<std::string>{"s", "scale"}
                                                            : std::vector<std::string>{"scale", "s"}, "scaled");
  add_node(g, "Where", {"blocked", "fill", "scaled"}, "masked");
  auto* softmax = add_node(g, "Softmax", {"masked"}, "p");
  auto* axis = softmax->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(softmax_axis);
  add_node(g, "MatMul", {"p", "v"}, "y");
  g->add_output()->set_name("y");
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model;
}

TEST(OnnxImport, AttentionChainsFuseWhereTheyCan) {
  manual_seed(5);
  const int64_t l = 6, s = 6;
  const Tensor causal = triu(ones({l, s}, kBool), 1);
  Tensor random_mask = rand({2, 1, l, s}) < 0.3;
  random_mask = logical_and(random_mask, logical_not(eye(l, -1, kBool).reshape({1, 1, l, s})));  // no fully blocked row
  struct Case {
    const char* what;
    int64_t axis;
    bool division;
    Shape kt_shape;
    Tensor blocked;
    bool fits;  // runs as scaled_dot_product_attention (else as the separate nodes)
  };
  const std::vector<Case> cases = {
      {"causal", -1, false, {2, 3, 4, s}, causal, true},
      {"random mask, Div", -1, true, {2, 3, 4, s}, random_mask, true},
      {"softmax axis 3", 3, false, {2, 3, 4, s}, causal, true},
      {"broadcast MatMul", -1, false, {1, 3, 4, s}, causal, false},
      {"softmax axis 2", 2, false, {2, 3, 4, s}, causal, false},
  };
  for (const Case& c : cases) {
    const std::string bytes = attention_model(c.axis, c.division).SerializeAsString();
    auto fused = parse_onnx(bytes, "test.onnx");
    auto plain = parse_onnx(bytes, "test.onnx", {.fuse_for_inference = false});
    ASSERT_TRUE(fused.ok() && plain.ok()) << fused.status() << plain.status();
    EXPECT_EQ(fused->module->num_fused_attentions(), 1) << c.what;
    EXPECT_EQ(plain->module->num_fused_attentions(), 0) << c.what;
    const std::vector<Tensor> inputs = {randn({2, 3, l, 4}), randn(c.kt_shape), randn({2, 3, s, 5}), c.blocked};
    fused->module->eval();
    plain->module->eval();
    NoGradGuard no_grad;
    const Tensor got = fused->module->forward(inputs)[0], want = plain->module->forward(inputs)[0];
    EXPECT_TRUE(close(got, want, 1e-6, 1e-5)) << c.what;
    // Which path ran: the fused one gives scaled_dot_product_attention's bits, the other the nodes'.
    const bool causal_mask = c.blocked.dim() == 2;
    const Tensor direct = !c.fits ? want
                                  : scaled_dot_product_attention(inputs[0], transpose(inputs[1], -2, -1), inputs[2],
                                                                 causal_mask ? Tensor() : logical_not(c.blocked), 0.0,
                                                                 causal_mask, c.division ? 1 / 2.5 : 0.4);
    EXPECT_TRUE(close(got, direct, 0, 0)) << c.what;
  }
}

TEST(OnnxImport, FreezingKeepsInitializersConstant) {
  OnnxImportOptions all;
  all.freeze_all = true;
  auto frozen = load_onnx(kModels + "cnn/model.onnx", all);
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  EXPECT_TRUE(frozen->module->named_parameters().empty());
  OnnxImportOptions some;
  some.frozen = {"conv1.weight", "conv1.bias"};
  auto partly = load_onnx(kModels + "cnn/model.onnx", some);
  ASSERT_TRUE(partly.ok()) << partly.status();
  EXPECT_EQ(partly->module->named_parameters().size(), 6u);
  // Same outputs either way.
  NoGradGuard no_grad;
  const Tensor x = read_tensor(kModels + "cnn/input.pb");
  frozen->module->eval();
  partly->module->eval();
  EXPECT_TRUE(close(frozen->module->forward(x), partly->module->forward(x), 0, 0));
}

// A model cut at a chosen value: the CNN's features (the input of its Gemm) with the classifier
// left out, as a transfer-learning backbone: fc's weights are not parameters, and the classifier
// applied to the features by hand gives the whole model's output.
TEST(OnnxImport, ChosenOutputsCutTheGraph) {
  const std::string path = kModels + "cnn/model.onnx";
  auto bytes = read_file(path);
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*bytes));
  std::string features;
  for (const auto& n : proto.graph().node())
    if (n.op_type() == "Gemm") features = n.input(0);
  ASSERT_FALSE(features.empty());
  OnnxImportOptions cut;
  cut.outputs = {features};
  auto backbone = load_onnx(path, cut);
  ASSERT_TRUE(backbone.ok()) << backbone.status();
  for (const auto& [name, p] : backbone->module->named_parameters()) EXPECT_EQ(name.rfind("fc.", 0), std::string::npos) << name;
  EXPECT_EQ(backbone->module->named_parameters().size(), 6u);
  auto whole = load("cnn");
  backbone->module->eval();
  whole->eval();
  NoGradGuard no_grad;
  const Tensor x = read_tensor(kModels + "cnn/input.pb");
  const Tensor f = backbone->module->forward(x);
  ASSERT_EQ(f.shape(), Shape({3, 8}));
  std::map<std::string, Tensor> params;
  for (const auto& [name, p] : whole->named_parameters()) params[name] = p;
  EXPECT_TRUE(close(linear(f, params.at("fc.weight"), params.at("fc.bias")), whole->forward(x), 1e-6, 1e-5));
  OnnxImportOptions missing;
  missing.outputs = {"no_such_value"};
  auto refused = load_onnx(path, missing);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no value named 'no_such_value'"), std::string::npos);
}

// ---- malformed models ----

onnx::ModelProto one_node_model(const std::string& op_type) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  auto* n = g->add_node();
  n->set_op_type(op_type);
  n->add_input("x");
  n->add_output("y");
  auto* out = g->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model;
}

std::string load_error(const onnx::ModelProto& model) {
  auto m = parse_onnx(model.SerializeAsString(), "test.onnx");
  return m.ok() ? "" : std::string(m.status().message());
}

TEST(OnnxImport, ValidModelRunsAndChecksItsInputs) {
  auto m = parse_onnx(one_node_model("Relu").SerializeAsString(), "test.onnx");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(equal(m->module->forward(tensor({-1.0, 2.0}, kFloat32)), tensor({0.0, 2.0}, kFloat32)));
  EXPECT_THROW(m->module->forward(tensor({1.0, 2.0, 3.0}, kFloat32)), Error);  // [3] vs [2]
  EXPECT_THROW(m->module->forward(tensor({1.0, 2.0}, kFloat64)), Error);       // dtype
  EXPECT_THROW(m->module->forward(std::vector<Tensor>{}), Error);               // arity
}

TEST(OnnxImport, MalformedModelsNameWhatIsWrong) {
  EXPECT_NE(load_error(one_node_model("NoSuchOp")).find("node 0 (NoSuchOp): op type NoSuchOp is not supported"),
            std::string::npos);
  {
    auto m = one_node_model("Relu");
    m.mutable_graph()->mutable_node(0)->set_input(0, "missing");
    EXPECT_NE(load_error(m).find("input 0 'missing' is not defined before it"), std::string::npos) << load_error(m);
  }
  {
    auto m = one_node_model("Relu");
    m.mutable_opset_import(0)->set_version(99);
    EXPECT_NE(load_error(m).find("opset 99 is not supported"), std::string::npos);
  }
  {
    auto m = one_node_model("Add");  // Add takes 2 inputs
    EXPECT_NE(load_error(m).find("has 1 inputs, Add takes 2"), std::string::npos) << load_error(m);
  }
  {
    auto m = one_node_model("Relu");
    *m.mutable_graph()->add_node() = m.graph().node(0);  // y defined twice
    EXPECT_NE(load_error(m).find("'y' is defined twice"), std::string::npos) << load_error(m);
  }
  {
    auto m = one_node_model("Relu");
    m.mutable_graph()->mutable_output(0)->set_name("z");
    EXPECT_NE(load_error(m).find("graph.output[0] 'z' is not defined"), std::string::npos);
  }
  {
    auto m = one_node_model("Relu");
    m.mutable_graph()->mutable_node(0)->set_domain("com.example");
    EXPECT_NE(load_error(m).find("domain 'com.example'"), std::string::npos);
  }
  {
    auto m = one_node_model("Add");
    m.mutable_graph()->mutable_node(0)->add_input("w");
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(4);
    w->set_raw_data(std::string(12, '\0'));  // 3 floats for 4
    EXPECT_NE(load_error(m).find("raw_data holds 12 bytes"), std::string::npos) << load_error(m);
    w->set_raw_data("");
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    EXPECT_NE(load_error(m).find("external data is not supported"), std::string::npos) << load_error(m);
    w->set_data_location(onnx::TensorProto::DEFAULT);
    w->set_data_type(onnx::TensorProto::FLOAT16);
    EXPECT_NE(load_error(m).find("FLOAT16 is not supported"), std::string::npos) << load_error(m);
    w->clear_dims();
    w->add_dims(int64_t{1} << 40);
    w->set_data_type(onnx::TensorProto::FLOAT);
    EXPECT_NE(load_error(m).find("dims give more than"), std::string::npos) << load_error(m);
  }
  EXPECT_FALSE(parse_onnx("not a protobuf \xff\xff", "junk.onnx").ok());
  EXPECT_FALSE(load_onnx("/nonexistent/model.onnx").ok());
}

// Casting NaN or an infinity to an integer has no answer: an error naming the value, on any
// number of threads (the conversion runs in a parallel loop, where nothing may throw).
TEST(OnnxImport, CastOfNonFiniteToIntegerIsAnError) {
  auto model = one_node_model("Cast");
  auto* to = model.mutable_graph()->mutable_node(0)->add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx::TensorProto::INT64);
  model.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("n");
  auto m = parse_onnx(model.SerializeAsString(), "test.onnx");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(equal(m->module->forward(tensor({-2.5, 3.75}, kFloat32)), tensor(std::vector<int64_t>{-2, 3})));
  Tensor big = full({100000}, 1.0, kFloat32);
  big.data().data<float>()[77777] = INFINITY;
  try {
    m->module->forward(big);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the value inf has no integer counterpart"), std::string::npos) << e.what();
  }
}

// Note [Constant folding at load]: the transformer's Constant/Shape-free chains fold; a graph of
// constants alone runs no node per call; a node that cannot run on its constants fails the load.
TEST(OnnxImport, NodesOnConstantsFoldAtLoad) {
  auto transformer = load("transformer");
  ASSERT_NE(transformer, nullptr);
  int file_nodes = 0;
  for (const auto& [op, n] : transformer->op_counts()) file_nodes += n;
  EXPECT_LT(transformer->num_nodes(), file_nodes - 39) << "the 39 Constant nodes at least fold";
  // y = x + (c * 2), c an initializer: Mul folds, Add runs.
  auto model = one_node_model("Add");
  auto* g = model.mutable_graph();
  g->mutable_node(0)->add_input("c2");
  auto* c = g->add_initializer();
  c->set_name("c");
  c->set_data_type(onnx::TensorProto::INT64);
  c->add_dims(2);
  c->add_int64_data(3);
  c->add_int64_data(-4);
  auto* mul = g->add_node();
  mul->set_op_type("Mul");
  mul->add_input("c");
  mul->add_input("c");
  mul->add_output("c2");
  // The Mul must come before the Add that reads it.
  std::swap(*g->mutable_node(0), *g->mutable_node(1));
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  auto m = parse_onnx(model.SerializeAsString(), "test.onnx");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->module->num_nodes(), 1);
  EXPECT_TRUE(equal(m->module->forward(tensor(std::vector<int64_t>{1, 1})), tensor(std::vector<int64_t>{10, 17})));
  // A constant node that cannot run is refused at load, by name.
  c->set_int64_data(0, 5);
  auto* bad = g->mutable_node(0);
  bad->set_op_type("Reshape");  // Reshape(c, c): shape [5, -4] is invalid
  auto refused = parse_onnx(model.SerializeAsString(), "test.onnx");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("node 0 (Reshape)"), std::string::npos) << refused.status();
}

TEST(OnnxImport, BadAttributesFailAtRunWithTheNodeAndAttribute) {
  auto model = one_node_model("LeakyRelu");
  auto* a = model.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("big");
  auto m = parse_onnx(model.SerializeAsString(), "test.onnx");
  ASSERT_TRUE(m.ok()) << m.status();
  try {
    m->module->forward(tensor({1.0, 2.0}, kFloat32));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 0 (LeakyRelu): attribute 'alpha' must be FLOAT, is STRING"),
              std::string::npos)
        << e.what();
  }
}

// A Conv or ConvTranspose on inputs with fewer than three dims (no spatial dims) is refused by
// name, whatever the weight's rank (the fuzzer once reached the kernel shape of a rank-1 weight).
TEST(OnnxImport, ConvolutionsOnInputsWithoutSpatialDimsAreRefused) {
  for (const std::string op_type : {"Conv", "ConvTranspose"}) {
    auto model = one_node_model(op_type);
    model.mutable_graph()->mutable_node(0)->add_input("w");
    auto m = parse_onnx(model.SerializeAsString(), "test.onnx");
    ASSERT_FALSE(m.ok()) << op_type << ": w is not defined";
    auto* w = model.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->set_raw_data(std::string(8, '\0'));
    m = parse_onnx(model.SerializeAsString(), "test.onnx");
    ASSERT_TRUE(m.ok()) << m.status();
    try {
      m->module->forward(tensor({1.0, 2.0}, kFloat32));
      FAIL() << op_type << ": expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("weight [2] does not fit input [2]"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tg::io
