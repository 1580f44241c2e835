// tapegrad/io/data_loader.h: an in-memory dataset and a DataLoader that batches it, reshuffles
// it every epoch with a seeded generator (epoch e always gives the same order), optionally drops
// the last partial batch, applies a transform, and prepares batches ahead on worker threads so
// loading overlaps compute. Random transforms (random_crop, random_horizontal_flip) draw from
// batch_generator(), seeded per (seed, epoch, batch): the same batches for any num_workers.
//   tg::io::DataLoader loader(tg::io::TensorDataset(images, labels), {.batch_size = 50, .seed = 0},
//                             tg::io::normalize(tg::io::kMnistMean, tg::io::kMnistStd));
//   auto epoch = loader.epoch(0);
//   for (tg::io::Batch b; epoch->next(&b);) { ... b.inputs, b.targets ... }
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "autograd/tensor.h"
#include "ops/generator.h"

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
// inputs [N, C, H, W] -> per channel (inputs[:, c] - mean[c]) / std[c] (torchvision's Normalize).
Transform normalize(std::vector<double> mean, std::vector<double> std);
// Each image of [N, C, H, W] padded by `padding` zeros on every side, then cut to size x size at
// a random place (torchvision's RandomCrop(size, padding)).
Transform random_crop(int64_t size, int64_t padding = 0);
// Each image of [N, C, H, W] mirrored left-right with probability p.
Transform random_horizontal_flip(double p = 0.5);
// inputs stored in that memory format: ChannelsLast (4-d inputs) makes the convolutions after it
// skip their layout reorders (Note [Channels last] in ops/array.cc); a 1-channel image costs no copy.
Transform to_memory_format(MemoryFormat format);
// The transforms one after the other.
Transform compose(std::vector<Transform> transforms);

// The generator random transforms draw from: inside a DataLoader, one seeded from (seed, epoch,
// batch index) for each batch, so a batch's draws do not depend on which worker made it or when;
// elsewhere (a transform called directly) a generator of this thread seeded from the default
// generator (manual_seed).
ops::Generator& batch_generator();

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int prefetch = 2;  // batches prepared ahead per worker; 0 prepares them on the caller's thread
  // Threads preparing batches (with prefetch > 0); batches still come in order. With more than one,
  // the transform runs on several threads at once, so it must be thread-safe: the library's are;
  // a random transform of your own should draw from batch_generator(), not a shared generator.
  int num_workers = 1;
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
    Epoch(const DataLoader& loader, std::vector<int64_t> order, int64_t index);
    Batch make(int64_t b) const;
    void produce(int worker);

    const DataLoader& loader_;
    std::vector<int64_t> order_;
    int64_t index_;  // the epoch's number
    int64_t batches_, next_to_consume_ = 0;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<int64_t, Batch> ready_;  // made ahead, by batch index
    std::exception_ptr error_;
    bool stop_ = false;
    std::vector<std::thread> workers_;
  };

 private:
  TensorDataset dataset_;
  DataLoaderOptions options_;
  Transform transform_;
};

}  // namespace tg::io
