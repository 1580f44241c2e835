// tapegrad/io/csv.cc: the CSV reader: lines, fields, numbers, the target column.
#include "io/csv.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "io/files.h"

namespace tg::io {

namespace {

// The fields of one line: split at the delimiter, trimmed, surrounding double quotes removed.
std::vector<std::string> fields_of(absl::string_view line, char delimiter) {
  std::vector<std::string> fields;
  for (absl::string_view f : absl::StrSplit(line, delimiter)) {
    f = absl::StripAsciiWhitespace(f);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = absl::StripAsciiWhitespace(f.substr(1, f.size() - 2));
    fields.emplace_back(f);
  }
  return fields;
}

}  // namespace

absl::StatusOr<CsvDataset> parse_csv(const std::string& bytes, const std::string& source, const CsvOptions& options) {
  auto fail = [&](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat(source, ": ", what)); };
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return fail("the delimiter cannot be a quote or a line end");
  }
  // (line number, fields) of every non-blank line.
  std::vector<std::pair<int64_t, std::vector<std::string>>> rows;
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(bytes, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    rows.emplace_back(line_number, fields_of(line, options.delimiter));
  }
  if (rows.empty()) return fail("no rows");
  const size_t columns = rows[0].second.size();
  std::vector<std::string> names;
  if (options.header) {
    names = rows[0].second;
    rows.erase(rows.begin());
  } else {
    for (size_t c = 0; c < columns; ++c) names.push_back(std::to_string(c));
  }
  if (columns < 2) return fail(absl::StrCat("line ", options.header ? 1 : rows[0].first, " has ", columns,
                                            " column(s); a dataset needs features and a target"));
  if (rows.empty()) return fail("a header and no data rows");
  size_t target = columns - 1;
  if (!options.target.empty()) {
    auto it = std::find(names.begin(), names.end(), options.target);
    if (it == names.end()) {
      return fail(absl::StrCat("no column '", options.target, "' (the columns: ", absl::StrJoin(names, ", "), ")"));
    }
    target = it - names.begin();
  }
  CsvDataset data;
  data.target_name = names[target];
  for (size_t c = 0; c < columns; ++c) {
    if (c != target) data.feature_names.push_back(names[c]);
  }
  const auto n = static_cast<int64_t>(rows.size()), f = static_cast<int64_t>(columns - 1);
  ops::Array features = ops::Array::empty({n, f}, kFloat32);
  ops::Array targets = ops::Array::empty({n}, options.target_kind == CsvTarget::kClassIndex ? kInt64 : kFloat32);
  float* x = features.data<float>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& [line, fields] = rows[r];
    if (fields.size() != columns) {
      return fail(absl::StrCat("line ", line, " has ", fields.size(), " fields, ",
                               options.header ? "the header has " : "the first line has ", columns));
    }
    for (size_t c = 0; c < columns; ++c) {
      double value = 0;
      if (!absl::SimpleAtod(fields[c], &value) || !std::isfinite(value)) {
        return fail(absl::StrCat("line ", line, ", column '", names[c], "': '", fields[c], "' is not a finite number"));
      }
      // Features and value targets are float32: a larger magnitude would become infinity (found by
      // data_fuzzer).
      if ((c != target || options.target_kind == CsvTarget::kValue) &&
          std::fabs(value) > std::numeric_limits<float>::max()) {
        return fail(absl::StrCat("line ", line, ", column '", names[c], "': ", fields[c], " is beyond float32's range"));
      }
      if (c != target) {
        *x++ = static_cast<float>(value);
      } else if (options.target_kind == CsvTarget::kValue) {
        targets.data<float>()[r] = static_cast<float>(value);
      } else {
        if (value < 0 || value != std::floor(value) || value > 9.0e15) {
          return fail(absl::StrCat("line ", line, ", column '", names[c], "': '", fields[c],
                                   "' is not a class index (a non-negative integer; use CsvTarget::kValue for values)"));
        }
        targets.data<int64_t>()[r] = static_cast<int64_t>(value);
      }
    }
  }
  data.features = Tensor(features);
  data.targets = Tensor(targets);
  return data;
}

absl::StatusOr<CsvDataset> load_csv(const std::string& path, const CsvOptions& options) {
  auto bytes = read_file(path, options.max_bytes);
  if (!bytes.ok()) return bytes.status();
  return parse_csv(*bytes, path, options);
}

}  // namespace tg::io
