// tapegrad/io/onnx_ops_test.cc: every op row either maps to ONNX or says why not, and every mapping
// is exercised: a table of small programs (one per mapping, plus edge configurations) is traced,
// exported, checked by onnx::checker (inside to_onnx), run in ONNX Runtime (npm onnxruntime-node,
// installed by tools/setup.sh) and compared with tapegrad's own output.
//   bazel test //io:onnx_ops_test
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "autograd/op_table.h"
#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/file_io.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/testing/tmp_path.h"
#include "io/trace.h"
#include "nn/module.h"
#include "tests/op_cases.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;

// A module whose forward is a lambda (the program of one case).
struct Program : nn::Module {
  explicit Program(std::function<Tensor(const Tensor&)> f) : Module("Program"), f(std::move(f)) {}
  Tensor forward(const Tensor& x) override { return f(x); }
  std::function<Tensor(const Tensor&)> f;
};

struct OnnxCase {
  std::string name;
  Shape input_shape;
  // Builds constants with the default generator: seeded identically for tapegrad's run and the
  // trace, so both see the same values. Must return float32 (ONNX Runtime's output is read so).
  std::function<Tensor(const Tensor&)> program;
};

Tensor c(const Shape& s) { return randn(s); }  // a constant of the program
Tensor positive(const Tensor& x) { return abs(x) + 0.5; }
Tensor as_float(const Tensor& x) { return to_dtype(x, kFloat32); }

std::vector<OnnxCase> cases() {
  const Shape m{3, 4}, img{2, 3, 8, 8};
  return {
      {"add_broadcast", m, [](const Tensor& x) { return x + c({4}); }},
      {"sub", m, [](const Tensor& x) { return x - c({3, 1}); }},
      {"mul", m, [](const Tensor& x) { return x * c({3, 4}); }},
      {"div", m, [](const Tensor& x) { return x / positive(c({4})); }},
      {"pow", m, [](const Tensor& x) { return pow(positive(x), c({4})); }},
      {"neg_exp_log_sqrt", m, [](const Tensor& x) { return sqrt(log(positive(exp(-x)))  + 1.0); }},
      {"clamp_both", m, [](const Tensor& x) { return clamp(x, -0.5, 0.5); }},
      {"clamp_min_only", m, [](const Tensor& x) { return clamp(x, 0.1, std::nullopt); }},
      {"clamp_max_only", m, [](const Tensor& x) { return clamp(x, std::nullopt, 0.2); }},
      {"where", m, [](const Tensor& x) { return where(gt(x, c({4})), x, c({3, 1})); }},
      {"compare", m,
       [](const Tensor& x) {
         return as_float(gt(x, c({4}))) + as_float(lt(x, c({3, 1}))) * 2.0 + as_float(eq(relu(x), x)) * 4.0;
       }},
      {"compare_ge_le_ne", m,
       [](const Tensor& x) {
         return as_float(ge(x, c({4}))) + as_float(le(x, 0.25)) * 2.0 + as_float(ne(relu(x), x)) * 4.0;
       }},
      // Integer inputs take other mappings (ONNX's Floor and Div do not do for int64).
      {"integer_rounding_remainder_floor_divide", m,
       [](const Tensor& x) {
         const Tensor i = to_dtype(x * 10.0, kInt64), d = tensor(std::vector<int64_t>{3, -4, 5, -2}, {4}, kInt64);
         return as_float(floor(i) + ceil(i) * 2 + round(i) + trunc(i) + (i % d) * 7 + floor_divide(i, d) * 11);
       }},
      {"softplus_beta", m, [](const Tensor& x) { return softplus(x, 2.0); }},
      {"float_floor_divide", m, [](const Tensor& x) { return floor_divide(x * 5.0, c({4})); }},
      {"relu_leaky_sigmoid_tanh", m, [](const Tensor& x) { return tanh(sigmoid(leaky_relu(relu(x) - 0.3, 0.2))); }},
      {"softmax", m, [](const Tensor& x) { return softmax(x, 1); }},
      {"log_softmax_dim0", m, [](const Tensor& x) { return log_softmax(x, 0); }},
      {"dropout_eval", m, [](const Tensor& x) { return dropout(x, 0.3, /*training=*/false); }},
      {"conv2d_stride_pad_bias", img, [](const Tensor& x) { return conv2d(x, c({4, 3, 3, 3}), c({4}), 2, 1); }},
      {"conv2d_groups_dilation", img,
       [](const Tensor& x) { return conv2d(x, c({6, 1, 3, 3}), Tensor(), 1, {2, 1}, 2, 3); }},
      {"conv_transpose2d_stride_pad_output_padding_bias", img,
       [](const Tensor& x) { return conv_transpose2d(x, c({3, 2, 3, 2}), c({2}), {2, 3}, {1, 0}, {1, 2}); }},
      {"conv_transpose2d_groups_dilation", img,
       [](const Tensor& x) { return conv_transpose2d(x, c({3, 2, 2, 3}), Tensor(), 2, 1, 1, 3, {2, 1}); }},
      {"conv_transpose1d", img,
       [](const Tensor& x) { return conv_transpose1d(flatten(x, 2), c({3, 4, 3}), c({4}), 2, 1, 1); }},
      {"max_pool2d_padded", img, [](const Tensor& x) { return max_pool2d(x, 3, 2, 1); }},
      {"avg_pool2d_count_pad", img, [](const Tensor& x) { return avg_pool2d(x, 3, 2, 1, true); }},
      {"avg_pool2d_exclude_pad", img, [](const Tensor& x) { return avg_pool2d(x, {2, 3}, 1, {1, 1}, false); }},
      {"batch_norm_eval", img,
       [](const Tensor& x) { return batch_norm(x, c({3}), positive(c({3})), c({3}), c({3}), false, 0.1, 1e-3); }},
      {"unflatten_last", img, [](const Tensor& x) { return unflatten(x, -1, {2, -1}) * 2.0; }},
      {"layer_norm_affine", m, [](const Tensor& x) { return layer_norm(x, {4}, c({4}), c({4})); }},
      {"layer_norm_weight_two_dims", img, [](const Tensor& x) { return layer_norm(x, {8, 8}, c({8, 8}), Tensor(), 1e-3); }},
      {"group_instance_rms_norm", img,
       [](const Tensor& x) { return group_norm(x, 3, c({3}), c({3})) + instance_norm(x) + rms_norm(x, {8}, c({8}), 1e-5); }},
      {"conv1d_pool1d_global_pool", img,
       [](const Tensor& x) {
         const Tensor seq = flatten(x, 2);  // [2, 3, 64]
         return adaptive_avg_pool2d(x, 1) + unsqueeze(mean(max_pool1d(conv1d(seq, c({3, 3, 5}), c({3}), 2, 2), 2), 2, true), 3);
       }},
      {"interpolate_bilinear", img, [](const Tensor& x) { return interpolate(x, std::vector<int64_t>{5, 11}, std::nullopt, "bilinear"); }},
      {"layer_norm_plain", m, [](const Tensor& x) { return layer_norm(x * 3.0, {3, 4}); }},
      {"attention", img,
       [](const Tensor& x) { return scaled_dot_product_attention(x, c({2, 3, 5, 8}), c({2, 3, 5, 4})); }},
      {"attention_additive_mask_scale", img,
       [](const Tensor& x) { return scaled_dot_product_attention(x, x * 0.5, x, c({8, 8}), 0.0, false, 0.3); }},
      {"embedding_2d_indices", m,
       [](const Tensor& x) { return embedding(tensor(std::vector<int64_t>{2, 0, 2, 1}, {2, 2}, kInt64), x, 1); }},
      {"index_select", m, [](const Tensor& x) { return index_select(x, 1, tensor(std::vector<int64_t>{3, 0, 0}, {3}, kInt64)); }},
      {"gather", m,
       [](const Tensor& x) { return gather(x, 1, tensor(std::vector<int64_t>{0, 3, 1, 1, 2, 2}, {3, 2}, kInt64)); }},
      {"matmul", m, [](const Tensor& x) { return matmul(x, c({4, 5})); }},
      {"matmul_batched", {2, 3, 4}, [](const Tensor& x) { return matmul(x, c({4, 2})); }},
      {"sum_dims_keepdim", img, [](const Tensor& x) { return sum(x, {1, 3}, true); }},
      {"sum_all", m, [](const Tensor& x) { return sum(x); }},
      {"mean", img, [](const Tensor& x) { return mean(x, {0, 2}); }},
      {"mean_all", m, [](const Tensor& x) { return mean(x); }},
      {"logsumexp", m, [](const Tensor& x) { return logsumexp(x, {1}, true); }},
      {"max_min_dim", m,
       [](const Tensor& x) { return std::get<0>(max(x, 1, true)) + std::get<0>(min(x, 0, true)); }},
      {"max_min_all", m, [](const Tensor& x) { return max(x) - min(x); }},
      {"argmax", m, [](const Tensor& x) { return as_float(argmax(x, 1, true)); }},
      {"argmin", m, [](const Tensor& x) { return as_float(argmin(x, 0)); }},
      {"reshape", m, [](const Tensor& x) { return reshape(x, {2, 6}); }},
      {"flatten_from_1", img, [](const Tensor& x) { return flatten(x, 1); }},
      {"flatten_from_2", img, [](const Tensor& x) { return flatten(x, 2); }},
      {"permute_contiguous", img, [](const Tensor& x) { return contiguous(permute(x, {0, 2, 3, 1})); }},
      {"slice_step", m, [](const Tensor& x) { return slice(x, 1, 1, 4, 2); }},
      {"expand", {3, 1}, [](const Tensor& x) { return expand(x, {2, 3, 4}); }},
      {"clone", m, [](const Tensor& x) { return clone(x) * 2.0; }},
      {"to_dtype_float64", m, [](const Tensor& x) { return as_float(to_dtype(x, kFloat64) * 3.0); }},
      {"cat", m, [](const Tensor& x) { return cat({x, c({2, 4}), x * 2.0}, 0); }},
  };
}

TEST(OnnxOpsCoverage, EveryRowMapsToOnnxOrSaysWhyNot) {
  for (const OpDef* op : all_ops()) {
    const bool mapped = !op->onnx.empty();
    const bool reasoned = op->not_onnx != nullptr && op->not_onnx[0] != '\0';
    EXPECT_TRUE(mapped || reasoned) << "op '" << op->name
                                    << "' has neither an ONNX mapping (.onnx) nor a reason (.not_onnx)";
    EXPECT_FALSE(mapped && reasoned) << "op '" << op->name << "' has both an ONNX mapping and a reason not to";
    for (const OnnxMapping& m : op->onnx) EXPECT_TRUE(m.op_type && *m.op_type) << op->name;
  }
}

struct Exported {
  std::string name;
  Tensor input, expected;
  onnx::ModelProto model;
};

Exported export_case(const OnnxCase& k, uint64_t seed) {
  manual_seed(seed);
  Tensor x = randn(k.input_shape);
  Program program(k.program);
  Exported e{k.name, x, Tensor(), {}};
  {
    NoGradGuard no_grad;
    manual_seed(seed + 1);
    e.expected = program(x);
  }
  manual_seed(seed + 1);
  auto graph = trace(program, x);
  EXPECT_TRUE(graph.ok()) << k.name << ": " << graph.status();
  if (!graph.ok()) return e;
  auto model = to_onnx(*graph, k.name);  // runs onnx::checker
  EXPECT_TRUE(model.ok()) << k.name << ": " << model.status();
  if (model.ok()) e.model = *model;
  return e;
}

// A dropout in training mode draws its mask: ONNX Runtime's draw differs from tapegrad's.
bool draws_random_numbers(const proto::GraphProto& g) {
  for (const auto& n : g.nodes()) {
    if (n.op() != "dropout") continue;
    for (const auto& a : n.attributes())
      if (a.name() == "training" && a.b()) return true;
  }
  return false;
}

// A case of the op case table as a one-input float32 program: its first floating input is the
// graph's input, the other inputs are constants. Nullopt when one of its ops has no ONNX mapping
// (or cannot express this configuration) or it draws random numbers.
std::optional<Exported> export_op_case(const test_cases::OpCase& k) {
  test_cases::Inputs inputs = k.make_inputs();
  int first = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !is_floating(inputs[i].dtype())) continue;
    inputs[i] = Tensor(inputs[i].data().to(kFloat32));
    if (first < 0) first = static_cast<int>(i);
  }
  if (first < 0) return std::nullopt;
  const auto fn = k.fn;
  auto operands = std::make_shared<test_cases::Inputs>(inputs);
  Program program([fn, operands, first](const Tensor& x) {
    test_cases::Inputs in = *operands;
    in[first] = x;
    return as_float(fn(in));
  });
  // The other floating inputs are the program's parameters, so ops on them alone are recorded
  // (a trace folds ops on constants: Note [Constant folding] in io/trace.cc).
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (static_cast<int>(i) == first || !inputs[i].defined() || !is_floating(inputs[i].dtype())) continue;
    (*operands)[i] = program.register_parameter("operand" + std::to_string(i), inputs[i], false);
  }
  Exported e{"case_" + k.name, inputs[first], Tensor(), {}};
  {
    NoGradGuard no_grad;
    e.expected = program(e.input);
  }
  auto graph = trace(program, e.input);
  EXPECT_TRUE(graph.ok()) << k.name << ": " << graph.status();
  if (!graph.ok() || draws_random_numbers(*graph)) return std::nullopt;
  auto model = to_onnx(*graph, k.name);
  if (!model.ok()) {
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented) << k.name << ": " << model.status();
    return std::nullopt;
  }
  e.model = *model;
  return e;
}

// Every mapping of every mapped row (row name, ONNX op type) must be exported by some case (of
// this file or of the op case table), and every exported case must agree with ONNX Runtime.
TEST(OnnxOpsRoundTrip, EveryMappingRunsInOnnxRuntimeWithTapegradsValues) {
  std::vector<Exported> exported;
  uint64_t seed = 100;
  for (const OnnxCase& k : cases()) exported.push_back(export_case(k, seed += 10));
  int from_table = 0;
  for (const test_cases::OpCase& k : test_cases::op_cases()) {
    if (auto e = export_op_case(k)) {
      exported.push_back(*std::move(e));
      ++from_table;
    }
  }
  std::printf("%zu programs exported, %d of them from the op case table\n", exported.size(), from_table);
  std::set<std::pair<std::string, std::string>> covered;  // (row, ONNX op type)
  for (const Exported& e : exported) {
    for (const auto& node : e.model.graph().node()) {
      covered.insert({node.name().substr(0, node.name().rfind('_')), node.op_type()});
    }
  }
  for (const OpDef* op : all_ops()) {
    for (const OnnxMapping& m : op->onnx) {
      // A multi-step mapping is covered when each of its steps was written.
      std::vector<const char*> op_types;
      for (const OnnxMapping& step : m.steps) op_types.push_back(step.op_type);
      if (m.steps.empty()) op_types.push_back(m.op_type);
      for (const char* op_type : op_types) {
        EXPECT_TRUE(covered.count({op->name, op_type}))
            << "op '" << op->name << "' -> ONNX " << m.op_type << " (node " << op_type
            << ") has no case (tests/op_cases.cc, or io/onnx_ops_test.cc for ops without a gradient)";
      }
    }
  }
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "Node.js is not installed: skipping ONNX Runtime";
  std::ofstream manifest(testing::tmp_path("manifest.txt"));
  for (const Exported& e : exported) {
    if (e.model.graph().node_size() == 0) continue;
    const std::string base = testing::tmp_path(e.name);
    ASSERT_TRUE(save_onnx(e.model, base + ".onnx").ok());
    const ops::Array in = e.input.data().contiguous();
    std::ofstream(base + ".in", std::ios::binary).write(static_cast<const char*>(in.raw_data()), in.numel() * 4);
    std::string dims;
    for (int64_t d : e.input.shape()) {
      if (!dims.empty()) dims += ',';  // (not "" + string: GCC 12 warns -Wrestrict on it)
      dims += std::to_string(d);
    }
    manifest << base << ".onnx " << base << ".in " << (dims.empty() ? "," : dims) << " " << base << ".out\n";
  }
  manifest.close();
  const std::string cmd = "node tools/onnxruntime/run_model.js --manifest=" + testing::tmp_path("manifest.txt");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const Exported& e : exported) {
    if (e.model.graph().node_size() == 0) continue;
    auto bytes = read_file(testing::tmp_path(e.name) + ".out");
    ASSERT_TRUE(bytes.ok()) << e.name;
    ASSERT_EQ(e.expected.dtype(), kFloat32) << e.name;
    const std::vector<float> ours = e.expected.contiguous().to_vector<float>();
    ASSERT_EQ(bytes->size(), ours.size() * 4) << e.name << ": ONNX Runtime's output has another size";
    const float* ort = reinterpret_cast<const float*>(bytes->data());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      worst = std::max(worst, std::fabs(double(ours[i]) - ort[i]) / (1.0 + std::fabs(double(ours[i]))));
    }
    EXPECT_LT(worst, 1e-5) << e.name << ": ONNX Runtime differs from tapegrad";
  }
}

// The way back: every program exported above imports (io/onnx_import) and computes tapegrad's own
// values again, so each row's export and the importer's converter for its ONNX op agree.
TEST(OnnxOpsRoundTrip, EveryExportedProgramImportsBackWithTheSameValues) {
  uint64_t seed = 100;
  std::vector<Exported> exported;
  for (const OnnxCase& k : cases()) exported.push_back(export_case(k, seed += 10));
  for (const test_cases::OpCase& k : test_cases::op_cases()) {
    if (auto e = export_op_case(k)) exported.push_back(*std::move(e));
  }
  int imported = 0;
  for (const Exported& e : exported) {
    if (e.model.graph().node_size() == 0) continue;
    auto model = parse_onnx(e.model.SerializeAsString(), e.name);
    ASSERT_TRUE(model.ok()) << e.name << ": " << model.status();
    model->module->eval();
    NoGradGuard no_grad;
    const Tensor got = model->module->forward(e.input);
    ASSERT_EQ(got.shape(), e.expected.shape()) << e.name;
    const std::vector<double> ours = e.expected.to(kFloat64).contiguous().to_vector<double>();
    const std::vector<double> back = got.to(kFloat64).contiguous().to_vector<double>();
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      const bool both_nan = std::isnan(ours[i]) && std::isnan(back[i]);
      if (!both_nan) worst = std::max(worst, std::fabs(ours[i] - back[i]) / (1.0 + std::fabs(ours[i])));
    }
    EXPECT_LT(worst, 1e-5) << e.name << ": the imported program differs from the exporting one";
    ++imported;
  }
  std::printf("%d exported programs imported back\n", imported);
  EXPECT_GT(imported, 100);
}

// A graph written before avg_pool2d always stored count_include_pad means PyTorch's default (true),
// which is not ONNX's (0): the mapping writes the row's meaning.
TEST(OnnxOpsAttributes, AnAbsentOptionalAttributeIsExportedWithTheRowsMeaning) {
  Program program([](const Tensor& x) { return avg_pool2d(x, 2, 1, 1); });
  auto graph = trace(program, randn({1, 1, 4, 4}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto* attrs = graph->mutable_nodes(0)->mutable_attributes();
  for (int i = 0; i < attrs->size(); ++i) {
    if (attrs->Get(i).name() == "count_include_pad") attrs->DeleteSubrange(i--, 1);
  }
  auto model = to_onnx(*graph);
  ASSERT_TRUE(model.ok()) << model.status();
  bool found = false;
  for (const auto& a : model->graph().node(0).attribute()) {
    if (a.name() == "count_include_pad") found = a.i() == 1;
  }
  EXPECT_TRUE(found) << "AveragePool lacks count_include_pad = 1";
}

TEST(OnnxOpsRefusals, NodesAMappingCannotExpressAreNamedWithTheReason) {
  struct Case {
    std::function<Tensor(const Tensor&)> program;
    const char* message;
  };
  const std::vector<Case> refused = {
      {[](const Tensor& x) { return flatten(x, 1, 2); }, "flatten up to a middle dim has no ONNX mapping"},
      {[](const Tensor& x) { return batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true); },
       "batch_norm in training mode"},
      {[](const Tensor& x) { return scaled_dot_product_attention(x, x, x, {}, 0.0, true); }, "is_causal needs Trilu"},
      {[](const Tensor& x) { return unflatten(x, 1, {-1, 1}); }, "unflatten of a dim other than the last"},
      {[](const Tensor& x) { return layer_norm(x, {4}, Tensor(), ones({4})); }, "layer_norm with a bias but no weight"},
      {[](const Tensor& x) { return batch_norm(x, zeros({3}), ones({3}), Tensor(), Tensor(), false); },
       "batch_norm without affine weight and bias"},
      {[](const Tensor& x) { return gelu(x); }, "op 'gelu' has no ONNX mapping: ONNX has Gelu only from opset 20"},
      {[](const Tensor& x) { return avg_pool2d(x, 2, 1, 1, false, true, 3); }, "ONNX AveragePool has no divisor_override"},
  };
  for (const Case& k : refused) {
    Program program(k.program);
    auto graph = trace(program, randn({2, 3, 4, 4}));
    ASSERT_TRUE(graph.ok()) << graph.status();
    auto model = to_onnx(*graph);
    ASSERT_FALSE(model.ok()) << k.message;
    EXPECT_THAT(std::string(model.status().message()), HasSubstr(k.message));
    EXPECT_THAT(std::string(model.status().message()), HasSubstr("graph.nodes["));
  }
}

}  // namespace
}  // namespace tg::io
