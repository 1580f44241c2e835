// tapegrad/tools/cli/tapegrad_main.cc: the `tapegrad` command-line tool.
//   tapegrad inspect FILE                   format, producer, metadata, input/output, ops, parameters
//   tapegrad predict FILE --data_dir=DIR    test-set accuracy of a saved MNIST model
//   tapegrad export-onnx FILE OUT.onnx      standard ONNX (opset 13), checked by onnx::checker
//   tapegrad dot FILE                       the graph in Graphviz dot syntax
// Exit code 0 on success; otherwise a one-line reason on stderr and a non-zero code.
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
#include "autograd/tapegrad.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/file_io.h"
#include "io/graph_dot.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "io/onnx_export.h"
#include "io/proto/tapegrad.pb.h"

// Flags of `predict` (the other commands take none; giving one is an error naming it).
ABSL_FLAG(std::optional<std::string>, data_dir, std::nullopt, "predict: MNIST-format test set (default data/mnist)");
ABSL_FLAG(std::optional<int64_t>, batch_size, std::nullopt, "predict: images per forward pass (default 1000)");
ABSL_FLAG(std::optional<double>, mean, std::nullopt, "predict: input mean (with --std); overrides the file's input_mean");
ABSL_FLAG(std::optional<double>, std, std::nullopt, "predict: input std (with --mean); overrides the file's input_std");

namespace {

using namespace tg;

constexpr char kUsage[] =
    "usage: tapegrad inspect FILE\n"
    "       tapegrad predict FILE [--data_dir=DIR] [--batch_size=N] [--mean=X --std=Y]\n"
    "           scores the model on the MNIST-format test set in DIR, inputs scaled to [0, 1] and\n"
    "           normalized by --mean/--std, else by the model file's metadata input_mean and\n"
    "           input_std (mnist_cnn --save writes them), else by MNIST's (said on stderr)\n"
    "       tapegrad export-onnx FILE OUT.onnx\n"
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
double parse_number(const std::string& text, const std::string& what) {
  double v;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    throw absl::InvalidArgumentError(what + " is not a finite number: '" + text + "'");
  }
  return v;
}

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
  } else if (metadata.count("input_mean") || metadata.count("input_std")) {
    if (!metadata.count("input_mean") || !metadata.count("input_std")) {
      throw absl::InvalidArgumentError(path + ": metadata has only one of input_mean and input_std");
    }
    n = {parse_number(metadata.at("input_mean"), path + ": metadata input_mean"),
         parse_number(metadata.at("input_std"), path + ": metadata input_std"), "the model file's metadata"};
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
int run(const std::vector<char*>& positional) {
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
  if (command == "inspect" || command == "predict" || command == "dot") {
    if (args.size() != 1) throw UsageError{command + " takes exactly one FILE"};
    if (command == "inspect") return inspect(args[0]);
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
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  try {
    return run(positional);
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
