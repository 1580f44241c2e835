// tapegrad/io/data_loader.cc: batching, seeded shuffling and the prefetch thread.
#include "io/data_loader.h"

#include <omp.h>

#include <algorithm>
#include <numeric>
#include <string>

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

namespace {

// The batch's float [N, C, H, W] images, checked and contiguous; a private copy when the caller
// writes into them (the batch may share storage with the dataset).
ops::Array images_of(const Batch& b, const char* what, bool to_write) {
  TG_CHECK(b.inputs.defined() && b.inputs.dim() == 4 && b.inputs.dtype() == kFloat32, what,
           ": expected float32 images [N, C, H, W], got ",
           b.inputs.defined() ? dtype_name(b.inputs.dtype()) + std::string(" ") + shape_str(b.inputs.shape()) : "none");
  return to_write ? b.inputs.data().contiguous().clone() : b.inputs.data().contiguous();
}

}  // namespace

Transform normalize(std::vector<double> mean, std::vector<double> std) {
  TG_CHECK(!mean.empty() && mean.size() == std.size(), "normalize: ", mean.size(), " means and ", std.size(),
           " standard deviations");
  for (double s : std) TG_CHECK(s > 0, "normalize: std must be positive, got ", s);
  return [mean, std](Batch b) {
    ops::Array x = images_of(b, "normalize", /*to_write=*/true);
    const int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
    TG_CHECK(c == static_cast<int64_t>(mean.size()), "normalize: ", mean.size(), " channel means for images ",
             shape_str(x.shape()));
    float* p = x.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < c; ++k, p += plane) {
        const float m = static_cast<float>(mean[k]), inv = static_cast<float>(1.0 / std[k]);
        for (int64_t j = 0; j < plane; ++j) p[j] = (p[j] - m) * inv;
      }
    }
    b.inputs = Tensor(x);
    return b;
  };
}

Transform random_crop(int64_t size, int64_t padding) {
  TG_CHECK(size > 0 && padding >= 0, "random_crop: size must be positive and padding >= 0, got ", size, " and ",
           padding);
  return [size, padding](Batch b) {
    const ops::Array x = images_of(b, "random_crop", /*to_write=*/false);
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    TG_CHECK(h + 2 * padding >= size && w + 2 * padding >= size, "random_crop: ", size, "x", size,
             " does not fit images ", shape_str(x.shape()), " padded by ", padding);
    ops::Array out = ops::Array::zeros({n, c, size, size}, kFloat32);
    const float* src = x.data<float>();
    float* dst = out.data<float>();
    ops::Generator& gen = batch_generator();
    for (int64_t i = 0; i < n; ++i) {
      // The crop's corner in padded coordinates; rows and columns outside the image stay 0.
      const auto top = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(h + 2 * padding - size + 1));
      const auto left = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(w + 2 * padding - size + 1));
      for (int64_t k = 0; k < c; ++k) {
        for (int64_t y = 0; y < size; ++y) {
          const int64_t sy = top + y - padding;
          if (sy < 0 || sy >= h) continue;
          for (int64_t xx = 0; xx < size; ++xx) {
            const int64_t sx = left + xx - padding;
            if (sx >= 0 && sx < w) dst[((i * c + k) * size + y) * size + xx] = src[((i * c + k) * h + sy) * w + sx];
          }
        }
      }
    }
    b.inputs = Tensor(out);
    return b;
  };
}

Transform random_horizontal_flip(double p) {
  TG_CHECK(p >= 0 && p <= 1, "random_horizontal_flip: p must be in [0, 1], got ", p);
  return [p](Batch b) {
    ops::Array x = images_of(b, "random_horizontal_flip", /*to_write=*/true);
    const int64_t n = x.size(0), rows = x.size(1) * x.size(2), w = x.size(3);
    float* data = x.data<float>();
    ops::Generator& gen = batch_generator();
    for (int64_t i = 0; i < n; ++i) {
      if (gen.uniform() >= p) continue;
      for (int64_t r = 0; r < rows; ++r) std::reverse(data + (i * rows + r) * w, data + (i * rows + r + 1) * w);
    }
    b.inputs = Tensor(x);
    return b;
  };
}

Transform to_memory_format(MemoryFormat format) {
  return [format](Batch b) {
    b.inputs = b.inputs.contiguous(format);
    return b;
  };
}

Transform compose(std::vector<Transform> transforms) {
  for (size_t i = 0; i < transforms.size(); ++i) TG_CHECK(transforms[i] != nullptr, "compose: transform ", i, " is empty");
  return [transforms = std::move(transforms)](Batch b) {
    for (const Transform& t : transforms) b = t(std::move(b));
    return b;
  };
}

DataLoader::DataLoader(TensorDataset dataset, DataLoaderOptions options, Transform transform)
    : dataset_(std::move(dataset)), options_(options), transform_(std::move(transform)) {
  TG_CHECK(options.batch_size > 0, "DataLoader: batch_size must be positive, got ", options.batch_size);
  TG_CHECK(options.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options.prefetch);
  TG_CHECK(options.num_workers >= 1, "DataLoader: num_workers must be >= 1, got ", options.num_workers);
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
  return std::unique_ptr<Epoch>(new Epoch(*this, order(index), index));
}

namespace {

// Note [Batch generators]: the generator of the batch being made on this thread (null outside a
// loader: then the default generator).
thread_local ops::Generator* current_batch_generator = nullptr;

}  // namespace

ops::Generator& batch_generator() {
  return current_batch_generator != nullptr ? *current_batch_generator : ops::default_generator();
}

DataLoader::Epoch::Epoch(const DataLoader& loader, std::vector<int64_t> order, int64_t index)
    : loader_(loader), order_(std::move(order)), index_(index), batches_(loader.num_batches()) {
  if (loader_.options_.prefetch > 0) {
    for (int w = 0; w < loader_.options_.num_workers; ++w) workers_.emplace_back([this, w] { produce(w); });
  }
}

DataLoader::Epoch::~Epoch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& w : workers_) w.join();
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
  if (!loader_.transform_) return batch;
  // Note [Batch generators]: seeded by (seed, epoch, batch, shard) alone.
  ops::Generator generator(((o.seed * 1000003ULL + static_cast<uint64_t>(index_)) * 1000003ULL +
                            static_cast<uint64_t>(b)) * 131ULL + static_cast<uint64_t>(o.shard) + 0x7a3ULL);
  ops::Generator* outer = current_batch_generator;
  current_batch_generator = &generator;
  struct Restore {
    ops::Generator* outer;
    ~Restore() { current_batch_generator = outer; }
  } restore{outer};
  return loader_.transform_(std::move(batch));
}

void DataLoader::Epoch::produce(int worker) {
  NoGradGuard no_grad;   // transforms never record
  omp_set_num_threads(1);  // the training thread owns the OpenMP pool; stay out of its way
  const int workers = loader_.options_.num_workers;
  const int64_t ahead = static_cast<int64_t>(loader_.options_.prefetch) * workers;
  for (int64_t b = worker; b < batches_; b += workers) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || b < next_to_consume_ + ahead; });
      if (stop_) return;
    }
    Batch batch;
    try {
      batch = make(b);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      cv_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ready_.emplace(b, std::move(batch));
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
  cv_.wait(lock, [&] { return ready_.count(next_to_consume_) > 0 || error_ != nullptr; });
  auto it = ready_.find(next_to_consume_);
  if (it == ready_.end()) std::rethrow_exception(error_);
  *batch = std::move(it->second);
  ready_.erase(it);
  ++next_to_consume_;
  cv_.notify_all();
  return true;
}

}  // namespace tg::io
