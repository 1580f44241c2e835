// tapegrad/io/onnx_conformance_test.cc: runs Debian's ONNX conformance suite (libonnx-testdata:
// /usr/share/libonnx-testdata/data/{node,pytorch-converted,pytorch-operator,simple}/<case>/
// model.onnx with test_data_set_*/input_*.pb and output_*.pb) through load_onnx and compares
// every output (float: |got - want| <= 1e-5 + 1e-4 |want|; integers and bools exactly).
// onnx_conformance_skips.txt lists each case tapegrad cannot run, with the reason. The test fails
// on any other case that fails, and on a listed case that now passes (take it off the list), so
// the count only moves forward. Prints "onnx conformance: P passed, F failed, S skipped" per folder.
// ONNX_CONFORMANCE_CASE=<name> runs one case and prints why it fails.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "gtest/gtest.h"
#include "io/files.h"
#include "io/onnx_import.h"
#include "io/onnx_tensor.h"

namespace tg::io {
namespace {

namespace fs = std::filesystem;

const char* kRoot = "/usr/share/libonnx-testdata/data";
const char* kFolders[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

absl::StatusOr<Tensor> read_tensor(const fs::path& path) {
  auto bytes = read_file(path.string());
  if (!bytes.ok()) return bytes.status();
  onnx::TensorProto t;
  if (!t.ParseFromString(*bytes)) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a TensorProto"));
  return tensor_from_onnx(t, path.string());
}

// Empty when `got` matches `want`; otherwise what differs.
std::string compare(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape()) return absl::StrCat("shape ", shape_str(got.shape()), ", expected ", shape_str(want.shape()));
  if (is_floating(got.dtype()) != is_floating(want.dtype()) || (got.dtype() == kBool) != (want.dtype() == kBool)) {
    return absl::StrCat("dtype ", dtype_name(got.dtype()), ", expected ", dtype_name(want.dtype()));
  }
  const std::vector<double> g = to_dtype(got, kFloat64).to_vector<double>();
  const std::vector<double> w = to_dtype(want, kFloat64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    const bool both_nan = std::isnan(g[i]) && std::isnan(w[i]);
    const bool same_inf = std::isinf(w[i]) && g[i] == w[i];
    if (both_nan || same_inf) continue;
    const double tol = is_floating(want.dtype()) ? 1e-5 + 1e-4 * std::fabs(w[i]) : 0.0;
    if (!(std::fabs(g[i] - w[i]) <= tol)) {
      return absl::StrCat("element ", i, " is ", g[i], ", expected ", w[i]);
    }
  }
  return "";
}

// Reads <set>/<kind>_0.pb, <kind>_1.pb, ... into *tensors; empty, or what could not be read.
std::string read_numbered(const fs::path& set, const std::string& kind, std::vector<Tensor>* tensors) {
  for (int i = 0;; ++i) {
    const fs::path p = set / absl::StrCat(kind, "_", i, ".pb");
    if (!fs::exists(p)) return "";
    auto t = read_tensor(p);
    if (!t.ok()) return absl::StrCat(kind, ": ", t.status().message());
    tensors->push_back(*t);
  }
}

// Empty when the case passes; otherwise the first reason it does not.
std::string run_case(const fs::path& dir) {
  const std::string path = (dir / "model.onnx").string();
  auto model = load_onnx(path);
  if (!model.ok()) {
    std::string why(model.status().message());
    if (why.rfind(path + ": ", 0) == 0) why = why.substr(path.size() + 2);
    return absl::StrCat("load: ", why);
  }
  model->module->eval();
  int sets = 0;
  std::vector<fs::path> set_dirs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) set_dirs.push_back(entry.path());
  }
  std::sort(set_dirs.begin(), set_dirs.end());
  for (const fs::path& set : set_dirs) {
    std::vector<Tensor> inputs, expected;
    if (std::string e = read_numbered(set, "input", &inputs); !e.empty()) return e;
    if (std::string e = read_numbered(set, "output", &expected); !e.empty()) return e;
    std::vector<Tensor> outputs;
    try {
      outputs = model->module->forward(inputs);
    } catch (const Error& e) {
      return absl::StrCat("run: ", e.what());
    }
    if (outputs.size() != expected.size()) return absl::StrCat(outputs.size(), " outputs, expected ", expected.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string diff = compare(outputs[i], expected[i]);
      if (!diff.empty()) return absl::StrCat(set.filename().string(), " output ", i, ": ", diff);
    }
    ++sets;
  }
  if (sets == 0) return "no test data sets";
  return "";
}

// "<folder>/<case> <reason...>" per line; '#' starts a comment.
std::map<std::string, std::string> read_skips() {
  std::map<std::string, std::string> skips;
  std::ifstream in("io/onnx_conformance_skips.txt");
  EXPECT_TRUE(in.good()) << "io/onnx_conformance_skips.txt is missing";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    skips[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return skips;
}

TEST(OnnxConformance, DebianSuite) {
  ASSERT_TRUE(fs::exists(kRoot)) << kRoot << " is missing: bash tools/setup.sh installs libonnx-testdata";
  const char* only = std::getenv("ONNX_CONFORMANCE_CASE");
  const std::map<std::string, std::string> skips = read_skips();
  std::ostringstream suggested;  // the skip list as it would be now, for a maintainer to copy
  int total_failed = 0;
  for (const char* folder : kFolders) {
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(fs::path(kRoot) / folder)) {
      if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
    }
    std::sort(cases.begin(), cases.end());
    int passed = 0, failed = 0, skipped = 0;
    for (const fs::path& dir : cases) {
      const std::string name = absl::StrCat(folder, "/", dir.filename().string());
      if (only != nullptr && dir.filename().string() != only) continue;
      const std::string why = run_case(dir);
      auto listed = skips.find(name);
      if (why.empty()) {
        ++passed;
        if (listed != skips.end()) {
          ADD_FAILURE() << name << " passes now: take it off io/onnx_conformance_skips.txt";
        }
      } else if (listed != skips.end()) {
        ++skipped;
        suggested << name << " " << listed->second << "\n";
      } else {
        ++failed;
        ADD_FAILURE() << name << ": " << why;
        suggested << name << " " << why << "\n";
      }
    }
    std::cout << "onnx conformance: " << folder << ": " << passed << " passed, " << failed << " failed, " << skipped
              << " skipped" << std::endl;
    total_failed += failed;
  }
  if (const char* out = std::getenv("ONNX_CONFORMANCE_WRITE_SKIPS")) {
    std::ofstream(out) << suggested.str();
  }
  EXPECT_EQ(total_failed, 0);
}

}  // namespace
}  // namespace tg::io
