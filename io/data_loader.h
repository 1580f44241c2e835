// tapegrad/io/data_loader.h: an in-memory dataset and a DataLoader that batches it, reshuffles
// it every epoch with a seeded generator (epoch e always gives the same order), optionally drops
// the last partial batch, applies a transform, and prefetches batches on a background thread so
// loading overlaps compute.
//   tg::io::DataLoader loader(tg::io::TensorDataset(images, labels), {.batch_size = 50, .seed = 0},
//                             tg::io::normalize(tg::io::kMnistMean, tg::io::kMnistStd));
//   auto epoch = loader.epoch(0);
//   for (tg::io::Batch b; epoch->next(&b);) { ... b.inputs, b.targets ... }
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "autograd/tensor.h"

namespace tg::io {

struct Batch {
  Tensor inputs;
  Tensor targets;
};

// Rows of `inputs` and `targets` (same first dimension) selected by index.
class TensorDataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  int64_t size() const { return inputs_.size(0); }
  Batch get(const std::vector<int64_t>& indices) const;

 private:
  Tensor inputs_, targets_;
};

using Transform = std::function<Batch(Batch)>;
// inputs -> (inputs - mean) / std
Transform normalize(double mean, double std);

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int prefetch = 2;  // batches prepared ahead; 0 prepares them on the caller's thread
  // Data-parallel sharding (see tg::distributed::shard_for_rank). Each step takes the next
  // batch_size * num_shards examples of the epoch's order and splits them into num_shards
  // contiguous parts; this loader yields part `shard`. Every shard has the same number of batches,
  // the shards of a step are disjoint and their union is the step's global batch (exactly the
  // batch a single process with batch_size * num_shards would see), and over an epoch the union
  // is the whole dataset. Only a last partial global batch is split unevenly; a part can then be
  // empty (0 rows).
  int64_t num_shards = 1;
  int64_t shard = 0;
};

class DataLoader {
 public:
  class Epoch;
  DataLoader(TensorDataset dataset, DataLoaderOptions options, Transform transform = nullptr);
  int64_t num_batches() const;
  int64_t dataset_size() const { return dataset_.size(); }
  // The batches of epoch `index` (shuffled with seed and index when shuffle is on).
  std::unique_ptr<Epoch> epoch(int64_t index) const;
  // The sample order of epoch `index`.
  std::vector<int64_t> order(int64_t index) const;
  const DataLoaderOptions& options() const { return options_; }

  class Epoch {
   public:
    ~Epoch();
    // Fills *batch and returns true, or returns false after the last batch. Rethrows an error
    // raised while preparing a batch.
    bool next(Batch* batch);

   private:
    friend class DataLoader;
    Epoch(const DataLoader& loader, std::vector<int64_t> order);
    Batch make(int64_t b) const;
    void produce();

    const DataLoader& loader_;
    std::vector<int64_t> order_;
    int64_t batches_, next_to_consume_ = 0, next_to_produce_ = 0;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Batch> ready_;
    std::exception_ptr error_;
    bool stop_ = false;
    std::thread worker_;
  };

 private:
  TensorDataset dataset_;
  DataLoaderOptions options_;
  Transform transform_;
};

}  // namespace tg::io
