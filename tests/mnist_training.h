// tapegrad/tests/mnist_training.h: shared by the MNIST end-to-end tests: load the IDX files from
// data/mnist (a clear test failure if tools/setup.sh has not fetched them) and train cnn_small.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "io/mnist.h"
#include "nn/module.h"

namespace tg::mnist_test {

// An empty Mnist (and a test failure naming the fix) if the files are missing.
io::Mnist load_mnist_or_fail(bool train);

// Trains `steps` batches of cnn_small's recipe (Adam 1e-3, batch 50, seeded shuffle, cycling
// epochs); returns the per-step losses. `after_step(step)` runs after each step (1-based).
std::vector<double> train_cnn_small(nn::Module& model, const io::Mnist& data, int64_t steps, uint64_t seed,
                                    const std::function<void(int64_t)>& after_step = nullptr);

}  // namespace tg::mnist_test
