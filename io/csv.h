// tapegrad/io/csv.h: numeric CSV files as a dataset (the regression and tabular examples): every
// column a number, one of them the target; features float32 [N, F], targets int64 class
// indices [N] or float32 values [N]. Fields may be quoted and padded with spaces; CRLF line ends
// and blank lines are fine. Every row is checked: its field count, each number (finite), each
// class index (a non-negative integer), with errors naming the line and column.
//   auto data = tg::io::load_csv("iris.csv", {.target = "species"});   // absl::StatusOr
//   tg::io::TensorDataset dataset(data->features, data->targets);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "autograd/tensor.h"

namespace tg::io {

enum class CsvTarget { kClassIndex, kValue };

struct CsvOptions {
  // The target column: its name in the header, or its 0-based index ("3") in a file without one;
  // empty: the last column.
  std::string target;
  CsvTarget target_kind = CsvTarget::kClassIndex;
  bool header = true;
  char delimiter = ',';
  int64_t max_bytes = int64_t{1} << 30;
};

struct CsvDataset {
  std::vector<std::string> feature_names;  // from the header, else "0", "1", ...
  std::string target_name;
  Tensor features;  // float32 [N, F]
  Tensor targets;   // int64 [N] (kClassIndex) or float32 [N] (kValue)
};

absl::StatusOr<CsvDataset> load_csv(const std::string& path, const CsvOptions& options = {});
absl::StatusOr<CsvDataset> parse_csv(const std::string& bytes, const std::string& source, const CsvOptions& options = {});

}  // namespace tg::io
