// tapegrad/tests/compare_models.cc: compare_models A.tgm B.tgm prints how far two saved models'
// parameters and buffers are apart, for tests that compare training runs:
//   max_abs_diff X max_abs_value Y tensors N
// Exit 1 (naming the file or tensor) when a file does not load or the two differ in names or shapes.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "autograd/tapegrad.h"
#include "io/model_file.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compare_models A.tgm B.tgm\n");
    return 2;
  }
  std::map<std::string, tg::Tensor> tensors[2];
  for (int i = 0; i < 2; ++i) {
    auto loaded = tg::io::load_model(argv[1 + i]);
    if (!loaded.ok()) {
      std::fprintf(stderr, "compare_models: %s\n", std::string(loaded.status().message()).c_str());
      return 1;
    }
    for (const auto& list : {loaded->module->named_parameters(), loaded->module->named_buffers()}) {
      for (const auto& [name, t] : list) tensors[i][name] = t;
    }
  }
  double diff = 0, largest = 0;
  for (const auto& [name, a] : tensors[0]) {
    auto it = tensors[1].find(name);
    if (it == tensors[1].end() || it->second.shape() != a.shape()) {
      std::fprintf(stderr, "compare_models: %s is missing or has another shape in %s\n", name.c_str(), argv[2]);
      return 1;
    }
    const tg::Tensor x = a.to(tg::kFloat64), y = it->second.to(tg::kFloat64);
    if (x.numel() == 0) continue;
    diff = std::max(diff, tg::max(tg::abs(tg::sub(x, y))).item());
    largest = std::max(largest, tg::max(tg::abs(x)).item());
  }
  if (tensors[1].size() != tensors[0].size()) {
    std::fprintf(stderr, "compare_models: %s has other tensors than %s\n", argv[2], argv[1]);
    return 1;
  }
  std::printf("max_abs_diff %.3g max_abs_value %.3g tensors %zu\n", diff, largest, tensors[0].size());
  return 0;
}
