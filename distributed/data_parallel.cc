// tapegrad/distributed/data_parallel.cc: parameter broadcast, the sharded loader options, the
// cross-rank configuration check and bucketed gradient averaging, overlapped with backward.
#include "distributed/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ops/version.h"

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

namespace {

// What must agree across ranks, one item a line: tapegrad's version, every parameter's and
// buffer's name, dtype and shape, and the program's settings.
std::vector<std::string> describe(nn::Module& module, const std::string& config) {
  std::vector<std::string> lines{absl::StrCat("tapegrad ", version())};
  for (const auto& [name, t] : module.named_parameters()) {
    lines.push_back(absl::StrCat("parameter ", name, " ", dtype_name(t.dtype()), " ", shape_str(t.shape()),
                                 t.requires_grad() ? "" : " frozen"));
  }
  for (const auto& [name, t] : module.named_buffers()) {
    lines.push_back(absl::StrCat("buffer ", name, " ", dtype_name(t.dtype()), " ", shape_str(t.shape())));
  }
  lines.push_back(absl::StrCat("config ", config));
  return lines;
}

// Throws on every rank if any rank's description differs from rank 0's, naming the first
// difference on the ranks that differ and those ranks everywhere.
void check_ranks_agree(nn::Module& module, const std::string& config, ProcessGroup& group) {
  const std::vector<std::string> mine = describe(module, config);
  const std::string joined = absl::StrJoin(mine, "\n");
  const std::vector<std::string> root = absl::StrSplit(group.broadcast_string(joined), '\n');
  std::string difference;
  for (size_t i = 0; i < std::max(mine.size(), root.size()) && difference.empty(); ++i) {
    const std::string here = i < mine.size() ? mine[i] : "(nothing)";
    const std::string there = i < root.size() ? root[i] : "(nothing)";
    if (here != there) difference = absl::StrCat("here '", here, "', on rank 0 '", there, "'");
  }
  std::vector<double> differs(group.size(), 0.0);
  differs[group.rank()] = difference.empty() ? 0.0 : 1.0;
  differs = group.sum(differs);
  std::vector<int> ranks;
  for (int r = 0; r < group.size(); ++r) {
    if (differs[r] != 0) ranks.push_back(r);
  }
  if (ranks.empty()) return;
  const std::string which = absl::StrJoin(ranks, ", ");
  TG_CHECK(difference.empty(), "DistributedDataParallel: rank ", group.rank(),
           "'s model or configuration differs from rank 0's: ", difference, " (ranks that differ: ", which, ")");
  throw Error(absl::StrCat("DistributedDataParallel: the model or configuration of rank(s) ", which,
                           " differs from rank 0's (their messages say what); every rank must run the same "
                           "model, settings and tapegrad version"));
}

}  // namespace

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module, ProcessGroup& group,
                                                 DataParallelOptions options)
    : module_(std::move(module)),
      group_(group),
      self_(std::make_shared<DistributedDataParallel*>(this)),
      time_communication_(options.time_communication),
      compression_(options.compression) {
  TG_CHECK(module_ != nullptr, "DistributedDataParallel: module is null");
  TG_CHECK(options.bucket_bytes > 0, "DistributedDataParallel: bucket_bytes must be positive, got ",
           options.bucket_bytes);
  check_ranks_agree(*module_, options.config, group_);
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
  // The hooks reach this object through self_, which the destructor clears: a model may outlive
  // its DistributedDataParallel.
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (const Tensor& p : buckets_[b].params) {
      p.register_post_accumulate_grad_hook([self = self_, b](const Tensor&) {
        if (*self != nullptr) (*self)->on_gradient_ready(b);
      });
    }
  }
}

DistributedDataParallel::~DistributedDataParallel() {
  *self_ = nullptr;
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

void DistributedDataParallel::prepare_for_backward(int64_t local_examples) {
  TG_CHECK(no_sync_depth_ == 0, "prepare_for_backward: inside no_sync() (call it for the step's last backward, ",
           "after the guard)");
  TG_CHECK(local_examples >= 0, "prepare_for_backward: local_examples must be >= 0, got ", local_examples);
  TG_CHECK(!prepared_, "prepare_for_backward: called twice without synchronize_gradients in between");
  prepared_ = true;
  prepared_examples_ = local_examples;
  next_bucket_ = 0;
  for (Bucket& bucket : buckets_) bucket.ready = 0;
  examples_ = ops::Array::from_vector(std::vector<int64_t>{local_examples}, {1});
  group_.start_allreduce_sum(examples_);
}

void DistributedDataParallel::on_gradient_ready(size_t b) {
  if (!prepared_ || no_sync_depth_ > 0) return;
  Bucket& bucket = buckets_[b];
  TG_CHECK(b >= next_bucket_ && bucket.ready < bucket.params.size(),
           "DistributedDataParallel: a gradient arrived for bucket ", b, " after all of its gradients (a second ",
           "backward after prepare_for_backward?); call prepare_for_backward once, before the step's last backward");
  if (++bucket.ready == bucket.params.size()) start_ready_buckets(false);
}

void DistributedDataParallel::start_ready_buckets(bool all) {
  while (next_bucket_ < buckets_.size()) {
    Bucket& bucket = buckets_[next_bucket_];
    if (!all && bucket.ready < bucket.params.size()) break;
    start_bucket(bucket);
    if (!all) ++buckets_started_in_backward_;
    ++next_bucket_;
  }
}

void DistributedDataParallel::start_bucket(Bucket& bucket) {
  dispatch_floating(bucket.flat.dtype(), "synchronize_gradients", [&](auto tag) {
    using T = decltype(tag);
    T* flat = bucket.flat.data<T>();
    for (const Tensor& p : bucket.params) {
      pack<T>(p, static_cast<T>(prepared_examples_), flat);
      flat += p.numel();
    }
  });
  if (bucket.flat.dtype() == kFloat32 && compression_ == GradientCompression::kBFloat16) {
    const float* flat = bucket.flat.data<float>();
    bucket.compressed.resize(bucket.flat.numel());
    for (size_t i = 0; i < bucket.compressed.size(); ++i) bucket.compressed[i] = to_bfloat16(flat[i]);
    group_.start_allreduce_sum_bfloat16(bucket.compressed.data(), static_cast<int64_t>(bucket.compressed.size()));
  } else {
    group_.start_allreduce_sum(bucket.flat);
  }
}

void DistributedDataParallel::synchronize_gradients(int64_t local_examples) {
  TG_CHECK(no_sync_depth_ == 0, "synchronize_gradients: inside no_sync() (gradients accumulate locally there; ",
           "synchronize after the step's last backward, outside the guard)");
  TG_CHECK(local_examples >= 0, "synchronize_gradients: local_examples must be >= 0, got ", local_examples);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto seconds = [](Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); };
  if (prepared_) {
    TG_CHECK(local_examples == prepared_examples_, "synchronize_gradients: local_examples ", local_examples,
             " differs from prepare_for_backward's ", prepared_examples_);
  } else {
    prepare_for_backward(local_examples);
  }
  start_ready_buckets(true);
  prepared_ = false;
  if (time_communication_) {
    last_arrival_ = ops::Array::from_vector(std::vector<double>{seconds(start)}, {1});
    group_.start_allreduce_max(last_arrival_);
  }
  group_.wait_all();
  const Clock::time_point end = Clock::now();
  if (time_communication_) {
    const double last = last_arrival_.data<double>()[0];
    straggler_seconds_ += last - seconds(start);
    communication_seconds_ += std::max(0.0, seconds(end) - last);
  }
  const int64_t total = examples_.data<int64_t>()[0];
  TG_CHECK(total > 0, "synchronize_gradients: no rank had any examples in this step");
  for (Bucket& bucket : buckets_) {
    if (!bucket.compressed.empty()) {
      float* flat = bucket.flat.data<float>();
      for (size_t i = 0; i < bucket.compressed.size(); ++i) flat[i] = from_bfloat16(bucket.compressed[i]);
    }
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
  sync_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace tg::distributed
