// tapegrad/io/csv_test.cc: the CSV reader: header and target by name or index, quoting, spaces,
// CRLF and blank lines, class indices and values, and the errors (naming line and column).
#include <fstream>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/csv.h"
#include "io/testing/tmp_path.h"

namespace tg::io {
namespace {

std::string message(const absl::StatusOr<CsvDataset>& d) { return std::string(d.status().message()); }

TEST(Csv, ReadsFeaturesAndTheTargetByName) {
  auto d = parse_csv("a, label ,b\r\n1.5,2,-3\n\n \"4\", 0 ,5e-1\r\n", "t.csv", {.target = "label"});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d->target_name, "label");
  EXPECT_EQ(d->features.shape(), (Shape{2, 2}));
  EXPECT_EQ(d->features.to_vector<float>(), (std::vector<float>{1.5f, -3.0f, 4.0f, 0.5f}));
  EXPECT_EQ(d->targets.dtype(), kInt64);
  EXPECT_EQ(d->targets.to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
}

TEST(Csv, WithoutHeaderTheLastColumnOrAnIndexAndValueTargets) {
  auto last = parse_csv("1;2;0.25\n3;4;0.5\n", "v.csv", {.target_kind = CsvTarget::kValue, .header = false, .delimiter = ';'});
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->feature_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(last->targets.dtype(), kFloat32);
  EXPECT_EQ(last->targets.to_vector<float>(), (std::vector<float>{0.25f, 0.5f}));
  auto first = parse_csv("7,1,2\n8,3,4\n", "i.csv", {.target = "0", .header = false});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->targets.to_vector<int64_t>(), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(first->features.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  const std::string path = testing::tmp_path("data.csv");
  std::ofstream(path) << "x,y\n1,0\n2,1\n";
  auto file = load_csv(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->targets.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(Csv, ErrorsNameTheLineAndColumn) {
  EXPECT_NE(message(parse_csv("a,b\n1,2\n3\n", "f.csv")).find("f.csv: line 3 has 1 fields, the header has 2"),
            std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1,x\n", "f.csv")).find("line 2, column 'b': 'x' is not a finite number"),
            std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\nnan,1\n", "f.csv")).find("'nan' is not a finite number"), std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1e39,1\n", "f.csv")).find("line 2, column 'a': 1e39 is beyond float32's range"),
            std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1,-4e38\n", "f.csv", {.target_kind = CsvTarget::kValue})).find("beyond float32"),
            std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1,2.5\n", "f.csv")).find("'2.5' is not a class index"), std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1,-1\n", "f.csv")).find("'-1' is not a class index"), std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n1,2\n", "f.csv", {.target = "c"})).find("no column 'c' (the columns: a, b)"),
            std::string::npos);
  EXPECT_NE(message(parse_csv("", "f.csv")).find("no rows"), std::string::npos);
  EXPECT_NE(message(parse_csv("a,b\n", "f.csv")).find("a header and no data rows"), std::string::npos);
  EXPECT_NE(message(parse_csv("a\n1\n", "f.csv")).find("a dataset needs features and a target"), std::string::npos);
  EXPECT_EQ(load_csv(testing::tmp_path("missing.csv")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tg::io
