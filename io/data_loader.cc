// tapegrad/io/data_loader.cc: batching, seeded shuffling and the prefetch thread.
#include "io/data_loader.h"

#include <omp.h>

#include <numeric>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "ops/elementwise.h"
#include "ops/index.h"

namespace tg::io {

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  TG_CHECK(inputs_.defined() && targets_.defined() && inputs_.dim() >= 1 && targets_.dim() >= 1,
           "TensorDataset: inputs and targets must be defined tensors with a batch dimension");
  TG_CHECK(inputs_.size(0) == targets_.size(0), "TensorDataset: ", inputs_.size(0), " inputs ",
           shape_str(inputs_.shape()), " but ", targets_.size(0), " targets ", shape_str(targets_.shape()));
}

Batch TensorDataset::get(const std::vector<int64_t>& indices) const {
  const ops::Array idx = ops::Array::from_vector(indices, {static_cast<int64_t>(indices.size())});
  return {Tensor(ops::index_select(inputs_.data(), 0, idx)), Tensor(ops::index_select(targets_.data(), 0, idx))};
}

Transform normalize(double mean, double std) {
  TG_CHECK(std > 0, "normalize: std must be positive, got ", std);
  return [mean, std](Batch b) {
    const ops::Array& x = b.inputs.data();
    ops::Array shifted = ops::binary(ops::BinaryOp::kSub, x, ops::Array::scalar(mean, x.dtype()));
    b.inputs = Tensor(ops::scale(shifted, 1.0 / std));
    return b;
  };
}

DataLoader::DataLoader(TensorDataset dataset, DataLoaderOptions options, Transform transform)
    : dataset_(std::move(dataset)), options_(options), transform_(std::move(transform)) {
  TG_CHECK(options.batch_size > 0, "DataLoader: batch_size must be positive, got ", options.batch_size);
  TG_CHECK(options.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options.prefetch);
  TG_CHECK(options.num_shards >= 1 && options.shard >= 0 && options.shard < options.num_shards,
           "DataLoader: shard ", options.shard, " of ", options.num_shards, " shards is invalid");
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_.size(), b = options_.batch_size * options_.num_shards;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(int64_t index) const {
  std::vector<int64_t> order(dataset_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    // Fisher-Yates with a generator derived from (seed, epoch): the same epoch always has the same
    // order, independent of what else drew random numbers.
    ops::Generator gen(options_.seed * 1000003ULL + static_cast<uint64_t>(index));
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i) {
      const int64_t j = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(i + 1));
      std::swap(order[i], order[j]);
    }
  }
  return order;
}

std::unique_ptr<DataLoader::Epoch> DataLoader::epoch(int64_t index) const {
  return std::unique_ptr<Epoch>(new Epoch(*this, order(index)));
}

DataLoader::Epoch::Epoch(const DataLoader& loader, std::vector<int64_t> order)
    : loader_(loader), order_(std::move(order)), batches_(loader.num_batches()) {
  if (loader_.options_.prefetch > 0) worker_ = std::thread([this] { produce(); });
}

DataLoader::Epoch::~Epoch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Batch DataLoader::Epoch::make(int64_t b) const {
  const DataLoaderOptions& o = loader_.options_;
  const int64_t global = o.batch_size * o.num_shards;
  const int64_t global_begin = b * global;
  const int64_t rows = std::min<int64_t>(global, static_cast<int64_t>(order_.size()) - global_begin);
  // This shard's contiguous part of the global batch (all equal unless the batch is partial).
  const int64_t begin = global_begin + rows * o.shard / o.num_shards;
  const int64_t end = global_begin + rows * (o.shard + 1) / o.num_shards;
  Batch batch = loader_.dataset_.get(std::vector<int64_t>(order_.begin() + begin, order_.begin() + end));
  return loader_.transform_ ? loader_.transform_(std::move(batch)) : batch;
}

void DataLoader::Epoch::produce() {
  NoGradGuard no_grad;   // transforms never record
  omp_set_num_threads(1);  // the training thread owns the OpenMP pool; stay out of its way
  for (int64_t b = 0; b < batches_; ++b) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || static_cast<int>(ready_.size()) < loader_.options_.prefetch; });
      if (stop_) return;
    }
    Batch batch;
    try {
      batch = make(b);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ready_.push_back(std::move(batch));
    ++next_to_produce_;
    cv_.notify_all();
  }
}

bool DataLoader::Epoch::next(Batch* batch) {
  if (next_to_consume_ >= batches_) return false;
  if (loader_.options_.prefetch == 0) {
    NoGradGuard no_grad;
    *batch = make(next_to_consume_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty() || error_ != nullptr; });
  if (ready_.empty() && error_) std::rethrow_exception(error_);
  *batch = std::move(ready_.front());
  ready_.pop_front();
  ++next_to_consume_;
  cv_.notify_all();
  return true;
}

}  // namespace tg::io
