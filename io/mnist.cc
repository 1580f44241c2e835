// tapegrad/io/mnist.cc: IDX parsing with full validation; .gz through zlib.
#include "io/mnist.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "io/files.h"

namespace tg::io {

namespace {

constexpr int64_t kMaxFileBytes = int64_t{1} << 32;  // 4 GiB: far beyond any IDX dataset

// Reads a whole file, decompressing when the name ends in ".gz".
absl::StatusOr<std::string> read_idx_file(const std::string& path) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (!gz) return read_file(path, kMaxFileBytes);
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string bytes;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    bytes.append(buf, n);
    if (static_cast<int64_t>(bytes.size()) > kMaxFileBytes) {
      gzclose(f);
      return absl::InvalidArgumentError(absl::StrCat(path, ": decompresses to more than 4 GiB"));
    }
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string reason = failed ? msg : "";
  gzclose(f);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": corrupt gzip stream (", reason, ")"));
  return bytes;
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Parses the IDX header: magic 0x00 0x00 0x08 (unsigned byte) then the dimension count, then
// dims; checks that the payload is exactly the product of the dims.
absl::StatusOr<std::vector<int64_t>> parse_header(const std::string& path, const std::string& file,
                                                  int expected_dims, size_t* payload_offset) {
  const std::basic_string_view<uint8_t> bytes(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  if (bytes.size() < 4) return absl::DataLossError(absl::StrCat(path, ": truncated header (", bytes.size(), " bytes)"));
  if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: bad magic number 0x%02x%02x%02x%02x (expected 0x000008%02x)",
                                                      path, bytes[0], bytes[1], bytes[2], bytes[3], expected_dims));
  }
  if (bytes[3] != expected_dims) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": has ", bytes[3], " dimensions, expected ", expected_dims));
  }
  const size_t header = 4 + 4 * static_cast<size_t>(expected_dims);
  if (bytes.size() < header) return absl::DataLossError(absl::StrCat(path, ": truncated header"));
  std::vector<int64_t> dims;
  int64_t payload = 1;
  for (int d = 0; d < expected_dims; ++d) {
    const int64_t v = big_endian(&bytes[4 + 4 * d]);
    if (v == 0 || v > (int64_t{1} << 31)) return absl::InvalidArgumentError(absl::StrCat(path, ": dimension ", d, " is ", v));
    dims.push_back(v);
    payload *= v;
    if (payload > kMaxFileBytes) return absl::InvalidArgumentError(absl::StrCat(path, ": dimensions too large"));
  }
  const int64_t expected = static_cast<int64_t>(header) + payload;
  if (static_cast<int64_t>(bytes.size()) != expected) {
    return absl::DataLossError(absl::StrCat(path, ": file is ", bytes.size(), " bytes, the header [",
                                            absl::StrJoin(dims, ","), "] needs ", expected,
                                            static_cast<int64_t>(bytes.size()) < expected ? " (truncated)" : " (trailing data)"));
  }
  *payload_offset = header;
  return dims;
}

std::string pick(const std::string& dir, const std::string& name) {
  const std::string raw = (std::filesystem::path(dir) / name).string();
  if (std::filesystem::exists(raw)) return raw;
  if (std::filesystem::exists(raw + ".gz")) return raw + ".gz";
  return raw;  // reported as missing by the reader
}

}  // namespace

absl::StatusOr<Tensor> read_idx_images(const std::string& path) {
  auto bytes = read_idx_file(path);
  if (!bytes.ok()) return bytes.status();
  size_t offset = 0;
  auto dims = parse_header(path, *bytes, 3, &offset);
  if (!dims.ok()) return dims.status();
  const int64_t n = (*dims)[0], rows = (*dims)[1], cols = (*dims)[2];
  ops::Array out = ops::Array::empty({n, 1, rows, cols}, kFloat32);
  float* p = out.data<float>();
  const uint8_t* src = reinterpret_cast<const uint8_t*>(bytes->data()) + offset;
  for (int64_t i = 0; i < n * rows * cols; ++i) p[i] = src[i] / 255.0f;
  return Tensor(out);
}

absl::StatusOr<Tensor> read_idx_labels(const std::string& path) {
  auto bytes = read_idx_file(path);
  if (!bytes.ok()) return bytes.status();
  size_t offset = 0;
  auto dims = parse_header(path, *bytes, 1, &offset);
  if (!dims.ok()) return dims.status();
  const int64_t n = (*dims)[0];
  ops::Array out = ops::Array::empty({n}, kInt64);
  int64_t* p = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t v = static_cast<uint8_t>((*bytes)[offset + i]);
    if (v > 9) return absl::InvalidArgumentError(absl::StrCat(path, ": label ", v, " at index ", i, " is not a digit 0-9"));
    p[i] = v;
  }
  return Tensor(out);
}

Mnist first_examples(const Mnist& m, int64_t n) {
  TG_CHECK(n > 0, "first_examples: n must be positive, got ", n);
  n = std::min<int64_t>(n, m.images.size(0));
  return {Tensor(m.images.data().narrow(0, 0, n)), Tensor(m.labels.data().narrow(0, 0, n))};
}

absl::StatusOr<Mnist> load_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  auto images = read_idx_images(pick(dir, prefix + "-images-idx3-ubyte"));
  if (!images.ok()) return images.status();
  auto labels = read_idx_labels(pick(dir, prefix + "-labels-idx1-ubyte"));
  if (!labels.ok()) return labels.status();
  if (images->size(0) != labels->size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": ", prefix, " has ", images->size(0), " images but ",
                                                   labels->size(0), " labels"));
  }
  return Mnist{*images, *labels};
}

absl::StatusOr<MnistSplits> load_mnist_splits(const std::string& dir, int64_t train_limit, int64_t test_limit) {
  if (train_limit < 0 || test_limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("load_mnist_splits: limits ", train_limit, " and ", test_limit,
                                                   " must not be negative"));
  }
  auto train = load_mnist(dir, /*train=*/true);
  if (!train.ok()) return train.status();
  auto test = load_mnist(dir, /*train=*/false);
  if (!test.ok()) return test.status();
  MnistSplits splits{*train, *test};
  if (train_limit > 0) splits.train = first_examples(splits.train, train_limit);
  if (test_limit > 0) splits.test = first_examples(splits.test, test_limit);
  return splits;
}

}  // namespace tg::io
