// tapegrad/io/mnist_test.cc: the IDX reader on small files written here (raw and gzip), and its
// errors for truncated, corrupt and inconsistent files.
#include "io/mnist.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;

std::string tmp(const std::string& name) { return testing::tmp_path(name); }

std::vector<uint8_t> idx(std::vector<uint32_t> dims, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), bytes.size());
  gzclose(f);
}

// Two 2x3 images with pixel values 0..11 and labels 7, 3.
std::vector<uint8_t> images() {
  std::vector<uint8_t> px;
  for (int i = 0; i < 12; ++i) px.push_back(static_cast<uint8_t>(i * 20));
  return idx({2, 2, 3}, px);
}

TEST(Mnist, ReadsRawAndGzipFiles) {
  write(tmp("img"), images());
  write_gz(tmp("img.gz"), images());
  for (const std::string& path : {tmp("img"), tmp("img.gz")}) {
    auto t = read_idx_images(path);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->shape(), Shape({2, 1, 2, 3}));
    const auto v = t->to_vector<float>();
    EXPECT_FLOAT_EQ(v[0], 0.0f);
    EXPECT_FLOAT_EQ(v[11], 220.0f / 255.0f);
  }
  write(tmp("lbl"), idx({2}, {7, 3}));
  auto labels = read_idx_labels(tmp("lbl"));
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->to_vector<int64_t>(), (std::vector<int64_t>{7, 3}));
}

TEST(Mnist, LoadsADirectoryPreferringRawFiles) {
  const std::string dir = tmp("mnist_dir");
  std::filesystem::create_directories(dir);
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", images());
  write(dir + "/t10k-labels-idx1-ubyte", idx({2}, {1, 2}));
  auto m = load_mnist(dir, /*train=*/false);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->images.size(0), 2);
  write(dir + "/t10k-labels-idx1-ubyte", idx({3}, {1, 2, 3}));
  auto mismatch = load_mnist(dir, false);
  EXPECT_THAT(std::string(mismatch.status().message()), HasSubstr("has 2 images but 3 labels"));
  auto missing = load_mnist(dir, true);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("train-images-idx3-ubyte: cannot open"));
}

TEST(Mnist, SplitsLoadBothSetsAndCutThemToTheirLimits) {
  const std::string dir = tmp("splits_dir");
  std::filesystem::create_directories(dir);
  write(dir + "/train-images-idx3-ubyte", images());
  write(dir + "/train-labels-idx1-ubyte", idx({2}, {7, 3}));
  auto missing_test = load_mnist_splits(dir);
  EXPECT_THAT(std::string(missing_test.status().message()), HasSubstr("t10k-images-idx3-ubyte: cannot open"));
  write(dir + "/t10k-images-idx3-ubyte", images());
  write(dir + "/t10k-labels-idx1-ubyte", idx({2}, {1, 2}));
  auto all = load_mnist_splits(dir);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->train.labels.to_vector<int64_t>(), (std::vector<int64_t>{7, 3}));
  EXPECT_EQ(all->test.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  auto cut = load_mnist_splits(dir, 1, 5);
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->train.labels.to_vector<int64_t>(), (std::vector<int64_t>{7}));
  EXPECT_EQ(cut->train.images.size(0), 1);
  EXPECT_EQ(cut->test.images.size(0), 2);  // a limit beyond the set keeps all of it
  EXPECT_FALSE(load_mnist_splits(dir, -1).ok());
}

TEST(Mnist, TruncatedFileIsAnErrorNamingTheFile) {
  std::vector<uint8_t> bytes = images();
  bytes.resize(bytes.size() - 1);
  write(tmp("short"), bytes);
  auto t = read_idx_images(tmp("short"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(tmp("short")));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("(truncated)"));
  write(tmp("header"), {0, 0, 8});
  EXPECT_THAT(std::string(read_idx_images(tmp("header")).status().message()), HasSubstr("truncated header"));
}

TEST(Mnist, CorruptHeadersAndValues) {
  std::vector<uint8_t> bad_magic = images();
  bad_magic[2] = 0x0D;  // float data
  write(tmp("magic"), bad_magic);
  EXPECT_THAT(std::string(read_idx_images(tmp("magic")).status().message()), HasSubstr("bad magic number"));
  write(tmp("dims"), idx({2}, {1, 2}));
  EXPECT_THAT(std::string(read_idx_images(tmp("dims")).status().message()), HasSubstr("has 1 dimensions, expected 3"));
  write(tmp("label10"), idx({2}, {1, 10}));
  EXPECT_THAT(std::string(read_idx_labels(tmp("label10")).status().message()), HasSubstr("label 10 at index 1"));
  std::vector<uint8_t> trailing = idx({2}, {1, 2});
  trailing.push_back(0);
  write(tmp("trailing"), trailing);
  EXPECT_THAT(std::string(read_idx_labels(tmp("trailing")).status().message()), HasSubstr("trailing data"));
  write(tmp("huge"), idx({0x7fffffff, 0x7fffffff, 0x7fffffff}, {}));
  EXPECT_FALSE(read_idx_images(tmp("huge")).ok());
  write(tmp("garbage.gz"), {0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_FALSE(read_idx_images(tmp("garbage.gz")).ok());
}

}  // namespace
}  // namespace tg::io
