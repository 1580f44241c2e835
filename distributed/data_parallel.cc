// tapegrad/distributed/data_parallel.cc: parameter broadcast, the sharded loader options and
// bucketed gradient averaging.
#include "distributed/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace tg::distributed {

namespace {

// Overwrites each tensor's values with root's, in place (the arrays share the tensors' storage).
void broadcast_in_place(const nn::NamedTensors& tensors, ProcessGroup& group, int root) {
  for (const auto& [name, tensor] : tensors) {
    TG_CHECK(tensor.data().is_contiguous(), "broadcast_parameters: ", name, " is not contiguous");
    ops::Array values = tensor.data();
    group.broadcast(values, root);
  }
}

}  // namespace

void broadcast_parameters(nn::Module& module, ProcessGroup& group, int root) {
  broadcast_in_place(module.named_parameters(), group, root);
  broadcast_in_place(module.named_buffers(), group, root);
}

bool replicas_identical(nn::Module& module, ProcessGroup& group) {
  int mismatches = 0;
  for (const auto& list : {module.named_parameters(), module.named_buffers()}) {
    for (const auto& [name, tensor] : list) {
      const ops::Array mine = tensor.data().contiguous();
      ops::Array root = mine.clone();
      group.broadcast(root, 0);
      mismatches += std::memcmp(root.raw_data(), mine.raw_data(), mine.numel() * dtype_size(mine.dtype())) != 0;
    }
  }
  return group.sum({static_cast<double>(mismatches)})[0] == 0;
}

io::DataLoaderOptions shard_for_rank(io::DataLoaderOptions options, const ProcessGroup& group) {
  options.num_shards = group.size();
  options.shard = group.rank();
  return options;
}

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module, ProcessGroup& group,
                                                 DataParallelOptions options)
    : module_(std::move(module)), group_(group) {
  TG_CHECK(module_ != nullptr, "DistributedDataParallel: module is null");
  TG_CHECK(options.bucket_bytes > 0, "DistributedDataParallel: bucket_bytes must be positive, got ",
           options.bucket_bytes);
  broadcast_parameters(*module_, group_);
  std::vector<Tensor> params = module_->parameters();
  std::reverse(params.begin(), params.end());
  for (DType dtype : {kFloat32, kFloat64}) {
    std::vector<Tensor> current;
    int64_t bytes = 0;
    auto close = [&] {
      if (current.empty()) return;
      int64_t numel = 0;
      for (const Tensor& p : current) numel += p.numel();
      buckets_.push_back({current, ops::Array::empty({numel}, dtype)});
      current.clear();
      bytes = 0;
    };
    for (const Tensor& p : params) {
      if (!p.requires_grad() || p.dtype() != dtype) continue;
      const int64_t size = p.numel() * dtype_size(dtype);
      if (bytes > 0 && bytes + size > options.bucket_bytes) close();
      current.push_back(p);
      bytes += size;
    }
    close();
  }
}

namespace {

// flat[offset..] = grad * scale (zeros if the parameter has no gradient).
template <typename T>
void pack(const Tensor& param, T scale, T* flat) {
  const Tensor grad = param.grad();
  const int64_t n = param.numel();
  if (!grad.defined()) {
    std::fill_n(flat, n, T(0));
    return;
  }
  TG_CHECK(grad.shape() == param.shape(), "synchronize_gradients: gradient ", shape_str(grad.shape()),
           " for parameter ", shape_str(param.shape()));
  const ops::Array g = grad.data().contiguous();
  const T* src = g.data<T>();
  for (int64_t i = 0; i < n; ++i) flat[i] = src[i] * scale;
}

// grad = flat / total, in place when the parameter owns a plain contiguous gradient (the usual
// case after backward), else into a new array.
template <typename T>
void unpack(const T* flat, T total, const Tensor& param) {
  Tensor grad = param.grad();
  const bool in_place = grad.defined() && !grad.requires_grad() && grad.data().is_contiguous() &&
                        grad.shape() == param.shape() && grad.data().storage().use_count() == 1;
  ops::Array g = in_place ? grad.data() : ops::Array::empty(param.shape(), param.dtype());
  T* dst = g.data<T>();
  const int64_t n = param.numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = flat[i] / total;
  if (!in_place) param.set_grad(Tensor(g));
}

}  // namespace

void DistributedDataParallel::synchronize_gradients(int64_t local_examples) {
  TG_CHECK(local_examples >= 0, "synchronize_gradients: local_examples must be >= 0, got ", local_examples);
  const auto start = std::chrono::steady_clock::now();
  ops::Array examples = ops::Array::from_vector(std::vector<int64_t>{local_examples}, {1});
  group_.start_allreduce_sum(examples);
  for (Bucket& bucket : buckets_) {
    dispatch_floating(bucket.flat.dtype(), "synchronize_gradients", [&](auto tag) {
      using T = decltype(tag);
      T* flat = bucket.flat.data<T>();
      for (const Tensor& p : bucket.params) {
        pack<T>(p, static_cast<T>(local_examples), flat);
        flat += p.numel();
      }
    });
    group_.start_allreduce_sum(bucket.flat);
  }
  group_.wait_all();
  const int64_t total = examples.data<int64_t>()[0];
  TG_CHECK(total > 0, "synchronize_gradients: no rank had any examples in this step");
  for (Bucket& bucket : buckets_) {
    dispatch_floating(bucket.flat.dtype(), "synchronize_gradients", [&](auto tag) {
      using T = decltype(tag);
      const T* flat = bucket.flat.data<T>();
      for (const Tensor& p : bucket.params) {
        unpack<T>(flat, static_cast<T>(total), p);
        flat += p.numel();
      }
    });
  }
  broadcast_in_place(module_->named_buffers(), group_, 0);
  sync_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tg::distributed
