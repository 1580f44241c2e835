// tapegrad/io/mnist.h: the MNIST IDX reader (raw or .gz). Every header field, dimension and the
// file size are validated before any data is read; problems come back as absl::Status naming
// the file and what is wrong.
//   absl::StatusOr<tg::io::Mnist> train = tg::io::load_mnist("data/mnist", /*train=*/true);
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "autograd/tensor.h"

namespace tg::io {

// uint8 images [N, 1, rows, cols] scaled to float32 in [0, 1].
absl::StatusOr<Tensor> read_idx_images(const std::string& path);
// int64 labels [N], each checked to be in [0, 9].
absl::StatusOr<Tensor> read_idx_labels(const std::string& path);

struct Mnist {
  Tensor images;  // float32 [N, 1, 28, 28] in [0, 1]
  Tensor labels;  // int64 [N]
};

// The first n examples (views, no copy); n larger than the set keeps all of it.
Mnist first_examples(const Mnist& m, int64_t n);

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte (or the same names + ".gz") from dir and
// checks that images and labels agree in count.
absl::StatusOr<Mnist> load_mnist(const std::string& dir, bool train);

struct MnistSplits {
  Mnist train, test;
};
// Both sets of dir, each cut to its first train_limit / test_limit examples (0: all of it).
absl::StatusOr<MnistSplits> load_mnist_splits(const std::string& dir, int64_t train_limit = 0,
                                              int64_t test_limit = 0);

// The pixel statistics of the MNIST training set (the values every tutorial normalizes with).
constexpr double kMnistMean = 0.1307;
constexpr double kMnistStd = 0.3081;
// ... and of the Fashion-MNIST training set (same file format, Debian's dataset-fashion-mnist).
constexpr double kFashionMnistMean = 0.2860;
constexpr double kFashionMnistStd = 0.3530;

}  // namespace tg::io
