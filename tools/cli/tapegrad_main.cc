// tapegrad/tools/cli/tapegrad_main.cc: the `tapegrad` command-line tool.
//   tapegrad inspect FILE(.tgm|.onnx)       format, producer, metadata, input/output, ops, parameters
//   tapegrad predict FILE --data_dir=DIR    test-set accuracy of a saved MNIST model
//   tapegrad export-onnx FILE OUT.onnx      standard ONNX (opset 13), checked by onnx::checker
//   tapegrad import-onnx IN.onnx OUT.tgm    an ONNX model as a tapegrad model file
//   tapegrad run FILE --input=X.npy --output=Y.npy   any model on NumPy arrays
//   tapegrad dot FILE                       the graph in Graphviz dot syntax
// Exit code 0 on success; otherwise a one-line reason on stderr and a non-zero code.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "autograd/tapegrad.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/file_io.h"
#include "io/graph_dot.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "io/npy.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/proto/tapegrad.pb.h"

// Flags of `predict` (the other commands take none; giving one is an error naming it).
ABSL_FLAG(std::optional<std::string>, data_dir, std::nullopt, "predict: MNIST-format test set (default data/mnist)");
ABSL_FLAG(std::optional<int64_t>, batch_size, std::nullopt, "predict: images per forward pass (default 1000)");
ABSL_FLAG(std::optional<double>, mean, std::nullopt, "predict: input mean (with --std); overrides the file's input_mean");
ABSL_FLAG(std::optional<double>, std, std::nullopt, "predict: input std (with --mean); overrides the file's input_std");
ABSL_FLAG(std::optional<std::string>, example_shape, std::nullopt,
          "import-onnx: the input shape to trace with, e.g. 1,3,224,224 (default: the file's, 1 for named dims)");

namespace {

using namespace tg;

constexpr char kUsage[] =
    "usage: tapegrad inspect FILE\n"
    "       tapegrad predict FILE [--data_dir=DIR] [--batch_size=N] [--mean=X --std=Y]\n"
    "           scores the model on the MNIST-format test set in DIR, inputs scaled to [0, 1] and\n"
    "           normalized by --mean/--std, else by the model file's metadata input_mean and\n"
    "           input_std (mnist_cnn --save writes them), else by MNIST's (said on stderr)\n"
    "       tapegrad export-onnx FILE OUT.onnx\n"
    "       tapegrad import-onnx IN.onnx OUT.tgm [--example_shape=1,3,224,224]\n"
    "           traces the imported model (eval mode) into a model file; dims the graph does not\n"
    "           depend on stay symbolic\n"
    "       tapegrad run FILE(.tgm|.onnx) --input=[NAME=]X.npy ... --output=[NAME=]Y.npy ...\n"
    "           runs the model (eval mode) on .npy arrays: inputs in the graph's order or by name,\n"
    "           one --output per graph output (or by name)\n"
    "       tapegrad dot FILE\n";

struct UsageError {
  std::string message;
};

// A model file read once: the validated, runnable module and the raw message for its fields.
struct ModelFile {
  io::LoadedModel loaded;
  proto::ModelProto proto;
};

ModelFile read_model(const std::string& path) {
  auto bytes = io::read_file(path);
  if (!bytes.ok()) throw bytes.status();
  auto loaded = io::parse_model(*bytes, path);  // validates the whole graph
  if (!loaded.ok()) throw loaded.status();
  ModelFile file{*std::move(loaded), {}};
  if (absl::Status s = io::parse_message(*bytes, path, "model", &file.proto); !s.ok()) throw s;
  return file;
}

int inspect(const std::string& path) {
  const ModelFile file = read_model(path);
  const proto::ModelProto& model = file.proto;
  std::printf("file %s\nformat %u.%u\nproducer %s\n", path.c_str(), model.format_major(), model.format_minor(),
              model.producer().c_str());
  std::map<std::string, std::string> metadata(model.metadata().begin(), model.metadata().end());
  for (const auto& [k, v] : metadata) std::printf("metadata %s = %s\n", k.c_str(), v.c_str());
  auto shape = [](const proto::ValueInfoProto& v) {
    std::string s = "[";
    for (int i = 0; i < v.shape_size(); ++i) absl::StrAppend(&s, i ? "," : "", v.shape(i) < 0 ? "N" : std::to_string(v.shape(i)));
    return s + "]";
  };
  for (const auto& v : model.graph().inputs()) std::printf("input %s %s\n", v.name().c_str(), shape(v).c_str());
  for (const auto& v : model.graph().outputs()) std::printf("output %s %s\n", v.name().c_str(), shape(v).c_str());
  std::map<std::string, int> ops;
  for (const auto& n : model.graph().nodes()) ++ops[n.op()];
  for (const auto& [op, count] : ops) std::printf("op %s %d\n", op.c_str(), count);
  std::map<std::string, int64_t> per_layer;
  int64_t total = 0;
  for (auto& [name, t] : file.loaded.module->named_parameters()) {
    const size_t dot = name.rfind('.');
    per_layer[dot == std::string::npos ? "(model)" : name.substr(0, dot)] += t.numel();
    total += t.numel();
  }
  for (const auto& [layer, n] : per_layer) std::printf("parameters %s %lld\n", layer.c_str(), static_cast<long long>(n));
  std::printf("parameters total %lld\n", static_cast<long long>(total));
  return 0;
}

bool is_onnx(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0; }

io::OnnxModel read_onnx(const std::string& path, const io::OnnxImportOptions& options = {}) {
  auto model = io::load_onnx(path, options);
  if (!model.ok()) throw model.status();
  return *std::move(model);
}

std::string dims_text(const io::OnnxValueInfo& v) {
  if (!v.has_shape) return "(unknown shape)";
  std::string s = "[";
  for (size_t i = 0; i < v.shape.size(); ++i) {
    absl::StrAppend(&s, i ? "," : "",
                    v.shape[i] >= 0 ? std::to_string(v.shape[i]) : (v.dim_names[i].empty() ? "?" : v.dim_names[i]));
  }
  return s + "]";
}

int inspect_onnx(const std::string& path) {
  const io::OnnxModel model = read_onnx(path);
  const io::OnnxModule& m = *model.module;
  std::printf("file %s\nformat onnx opset %d\nproducer %s\n", path.c_str(), m.opset(), model.producer.c_str());
  for (const auto& [k, v] : model.metadata) std::printf("metadata %s = %s\n", k.c_str(), v.c_str());
  for (const auto& v : m.inputs()) std::printf("input %s %s %s\n", v.name.c_str(), dtype_name(v.dtype), dims_text(v).c_str());
  for (const auto& v : m.outputs()) std::printf("output %s %s %s\n", v.name.c_str(), dtype_name(v.dtype), dims_text(v).c_str());
  for (const auto& [op, count] : m.op_counts()) std::printf("op %s %d\n", op.c_str(), count);
  std::printf("nodes run per call %lld (the others fold into constants at load)\n",
              static_cast<long long>(m.num_nodes()));
  std::printf("batch norms folded into convolutions in eval %lld\n", static_cast<long long>(m.num_folded_batch_norms()));
  std::printf("convolutions with Add/Relu fused in eval %lld\n", static_cast<long long>(m.num_fused_convolutions()));
  std::printf("convolutions keeping the kernel's layout in eval %lld\n",
              static_cast<long long>(m.num_kernel_layout_convolutions()));
  std::printf("attentions fused in eval %lld\n", static_cast<long long>(m.num_fused_attentions()));
  std::printf("gelus fused in eval %lld\n", static_cast<long long>(m.num_fused_gelus()));
  int64_t total = 0;
  for (const auto& [name, t] : m.named_parameters()) {
    std::printf("parameter %s %s\n", name.c_str(), shape_str(t.shape()).c_str());
    total += t.numel();
  }
  for (const auto& [name, t] : m.named_buffers()) std::printf("buffer %s %s\n", name.c_str(), shape_str(t.shape()).c_str());
  std::printf("parameters total %lld\n", static_cast<long long>(total));
  return 0;
}

// The shape import-onnx traces with: --example_shape, else the file's (named dims as 1).
Shape example_shape(const io::OnnxValueInfo& input) {
  Shape shape;
  if (const auto flag = absl::GetFlag(FLAGS_example_shape)) {
    for (absl::string_view part : absl::StrSplit(*flag, ',')) {
      int64_t d;
      if (!absl::SimpleAtoi(part, &d) || d < 0) throw UsageError{"--example_shape: '" + std::string(part) + "' is not a size"};
      shape.push_back(d);
    }
    return shape;
  }
  if (!input.has_shape) throw UsageError{"input '" + input.name + "' has no declared shape: give --example_shape"};
  for (int64_t d : input.shape) shape.push_back(d < 0 ? 1 : d);
  return shape;
}

int import_onnx(const std::string& in, const std::string& out) {
  const io::OnnxModel model = read_onnx(in);
  io::OnnxModule& m = *model.module;
  if (m.inputs().size() != 1 || m.outputs().size() != 1) {
    throw absl::InvalidArgumentError(absl::StrCat(in, ": has ", m.inputs().size(), " inputs and ", m.outputs().size(),
                                                  " outputs; a .tgm model has one of each (run it with `tapegrad run`)"));
  }
  m.eval();
  const Tensor example = zeros(example_shape(m.inputs()[0]), m.inputs()[0].dtype);
  std::map<std::string, std::string> metadata = model.metadata;
  metadata["imported_from"] = in;
  if (!model.producer.empty()) metadata["onnx_producer"] = model.producer;
  if (absl::Status s = io::save_model(m, example, out, metadata); !s.ok()) throw s;
  auto loaded = io::load_model(out);
  if (!loaded.ok()) throw loaded.status();
  std::printf("wrote %s (%lld ONNX nodes, input %s)\n", out.c_str(), static_cast<long long>(m.num_nodes()),
              shape_str(loaded->module->input_shape()).c_str());
  if (loaded->module->input_shape()[0] >= 0) {
    std::fprintf(stderr,
                 "tapegrad import-onnx: note: the traced graph depends on its batch size, so %s runs at batch %lld "
                 "only (-1 marks the symbolic dims); give --example_shape for another size\n",
                 out.c_str(), static_cast<long long>(loaded->module->input_shape()[0]));
  }
  return 0;
}

// "NAME=path" or "path".
std::pair<std::string, std::string> named_path(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos) return {"", arg};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// Places each --input/--output on a graph position: by name, or in order when none is named.
std::vector<std::string> by_position(const std::vector<std::string>& args, const std::vector<std::string>& names,
                                     const char* what) {
  std::vector<std::string> paths(names.size());
  bool any_named = false, any_unnamed = false;
  for (const std::string& a : args) (named_path(a).first.empty() ? any_unnamed : any_named) = true;
  if (any_named && any_unnamed) throw UsageError{absl::StrCat("--", what, ": name all of them or none")};
  if (args.size() != names.size()) {
    throw UsageError{absl::StrCat("the model has ", names.size(), " ", what, "s, ", args.size(), " --", what, " given")};
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const auto [name, path] = named_path(args[i]);
    size_t at = i;
    if (any_named) {
      at = std::find(names.begin(), names.end(), name) - names.begin();
      if (at == names.size()) throw UsageError{absl::StrCat("--", what, ": the model has no ", what, " '", name, "'")};
      if (!paths[at].empty()) throw UsageError{absl::StrCat("--", what, ": '", name, "' given twice")};
    }
    paths[at] = path;
  }
  return paths;
}

int run_model(const std::string& path, const std::vector<std::string>& input_args,
              const std::vector<std::string>& output_args) {
  std::vector<std::string> input_names, output_names;
  std::shared_ptr<nn::Module> module;
  std::shared_ptr<io::OnnxModule> onnx_module;
  if (is_onnx(path)) {
    // The file's graph as written (no batch norm folded into a Conv): the same bits as the
    // model imported into a .tgm.
    onnx_module = read_onnx(path, {.fuse_for_inference = false}).module;
    for (const auto& v : onnx_module->inputs()) input_names.push_back(v.name);
    for (const auto& v : onnx_module->outputs()) output_names.push_back(v.name);
    module = onnx_module;
  } else {
    auto loaded = io::load_model(path);
    if (!loaded.ok()) throw loaded.status();
    module = loaded->module;
    input_names = {"input"};
    output_names = {"output"};
  }
  const std::vector<std::string> in_paths = by_position(input_args, input_names, "input");
  const std::vector<std::string> out_paths = by_position(output_args, output_names, "output");
  std::vector<Tensor> inputs;
  for (const std::string& p : in_paths) {
    auto t = io::load_npy(p);
    if (!t.ok()) throw t.status();
    inputs.push_back(*t);
  }
  module->eval();
  NoGradGuard no_grad;
  const std::vector<Tensor> outputs = onnx_module ? onnx_module->forward(inputs) : std::vector<Tensor>{module->forward(inputs[0])};
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (absl::Status s = io::save_npy(outputs[i], out_paths[i]); !s.ok()) throw s;
    std::printf("output %s %s %s -> %s\n", output_names[i].c_str(), dtype_name(outputs[i].dtype()),
                shape_str(outputs[i].shape()).c_str(), out_paths[i].c_str());
  }
  return 0;
}

int export_onnx(const std::string& path, const std::string& out) {
  const ModelFile file = read_model(path);
  const proto::ModelProto& model = file.proto;
  auto onnx = io::to_onnx(model.graph(), model.metadata().count("architecture") ? model.metadata().at("architecture") : "tapegrad");
  if (!onnx.ok()) throw onnx.status();
  if (absl::Status s = io::save_onnx(*onnx, out); !s.ok()) throw s;
  std::printf("wrote %s (%d nodes, opset %d)\n", out.c_str(), onnx->graph().node_size(), io::kOnnxOpset);
  return 0;
}

int dot(const std::string& path) {
  const ModelFile file = read_model(path);
  std::printf("%s", io::graph_to_dot(file.proto.graph()).c_str());
  return 0;
}

// A number given as --name or found in the model's metadata; `what` names it in errors.
// The normalization predict applies: flags first, then the file's metadata, then MNIST's, with
// where each came from (a Fashion-MNIST model scored with MNIST's statistics loses accuracy).
struct Normalization {
  double mean, std;
  std::string source;
};
Normalization input_normalization(const std::string& path, const std::map<std::string, std::string>& metadata) {
  const std::optional<double> mean = absl::GetFlag(FLAGS_mean), stddev = absl::GetFlag(FLAGS_std);
  if (mean.has_value() != stddev.has_value()) throw UsageError{"--mean and --std go together"};
  Normalization n{io::kMnistMean, io::kMnistStd, "MNIST's, since " + path + " has no input_mean/input_std metadata"};
  if (mean) {
    if (!std::isfinite(*mean) || !std::isfinite(*stddev)) throw UsageError{"--mean and --std must be finite"};
    n = {*mean, *stddev, "--mean/--std"};
  } else {
    const auto recorded = io::input_normalization(metadata, path);
    if (!recorded.ok()) throw recorded.status();
    if (*recorded) n = {(*recorded)->mean, (*recorded)->std, "the model file's metadata"};
  }
  if (!(n.std > 0)) throw absl::InvalidArgumentError("input std must be positive, got " + std::to_string(n.std));
  return n;
}

int predict(const std::string& path) {
  auto loaded = io::load_model(path);
  if (!loaded.ok()) throw loaded.status();
  const std::string dir = absl::GetFlag(FLAGS_data_dir).value_or("data/mnist");
  auto test = io::load_mnist(dir, /*train=*/false);
  if (!test.ok()) throw test.status();
  const Normalization norm = input_normalization(path, loaded->metadata);
  std::fprintf(stderr, "tapegrad predict: inputs normalized with mean %g std %g (%s)\n", norm.mean, norm.std,
               norm.source.c_str());
  const int64_t batch = absl::GetFlag(FLAGS_batch_size).value_or(1000);
  if (batch <= 0) throw UsageError{"--batch_size must be positive"};
  io::DataLoader loader(io::TensorDataset(test->images, test->labels), {.batch_size = batch, .shuffle = false},
                        io::normalize(norm.mean, norm.std));
  std::printf("test_accuracy %.4f\n", io::classification_accuracy(*loaded->module, loader));
  return 0;
}

// positional: the command line without flags (argv[0] first), as absl::ParseCommandLine left it.
int run(const std::vector<char*>& positional, const std::vector<std::string>& input_args,
        const std::vector<std::string>& output_args) {
  if (positional.size() < 2) throw UsageError{"missing command"};
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command != "predict") {
    const std::pair<const char*, bool> predict_flags[] = {
        {"data_dir", absl::GetFlag(FLAGS_data_dir).has_value()},
        {"batch_size", absl::GetFlag(FLAGS_batch_size).has_value()},
        {"mean", absl::GetFlag(FLAGS_mean).has_value()},
        {"std", absl::GetFlag(FLAGS_std).has_value()}};
    for (const auto& [name, given] : predict_flags) {
      if (given) throw UsageError{absl::StrCat("--", name, " is a flag of predict, not of ", command)};
    }
  }
  if (command != "import-onnx" && absl::GetFlag(FLAGS_example_shape).has_value()) {
    throw UsageError{"--example_shape is a flag of import-onnx, not of " + command};
  }
  if (command != "run" && (!input_args.empty() || !output_args.empty())) {
    throw UsageError{"--input and --output are flags of run, not of " + command};
  }
  if (command == "run") {
    if (args.size() != 1) throw UsageError{"run takes exactly one FILE"};
    return run_model(args[0], input_args, output_args);
  }
  if (command == "import-onnx") {
    if (args.size() != 2) throw UsageError{"import-onnx takes IN.onnx and OUT.tgm"};
    return import_onnx(args[0], args[1]);
  }
  if (command == "inspect" || command == "predict" || command == "dot") {
    if (args.size() != 1) throw UsageError{command + " takes exactly one FILE"};
    if (command == "inspect") return is_onnx(args[0]) ? inspect_onnx(args[0]) : inspect(args[0]);
    return command == "predict" ? predict(args[0]) : dot(args[0]);
  }
  if (command == "export-onnx") {
    if (args.size() != 2) throw UsageError{"export-onnx takes FILE and OUT.onnx"};
    return export_onnx(args[0], args[1]);
  }
  if (command == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  throw UsageError{"unknown command '" + command + "'"};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  // --help lists this file's flags under the usage; a bad value or an unknown flag is refused by
  // name (exit code 1) before any command runs.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) { return file.find("tools/cli/") != absl::string_view::npos; };
  absl::SetFlagsUsageConfig(config);
  // --input and --output repeat (one per graph input/output): taken out before Abseil's parser,
  // whose flags hold one value each.
  std::vector<std::string> input_args, output_args;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--input=", 0) == 0) input_args.push_back(a.substr(8));
    else if (a.rfind("--output=", 0) == 0) output_args.push_back(a.substr(9));
    else rest.push_back(argv[i]);
  }
  const std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
  try {
    return run(positional, input_args, output_args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "tapegrad: %s\n%s", e.message.c_str(), kUsage);
    return 2;
  } catch (const absl::Status& s) {
    std::fprintf(stderr, "tapegrad: %s\n", std::string(s.message()).c_str());
    return 1;
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "tapegrad: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapegrad: %s\n", e.what());
    return 1;
  }
}
