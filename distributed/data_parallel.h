// tapegrad/distributed/data_parallel.h: data-parallel training over MPI. Every rank holds the
// whole model, trains on its shard of each global batch, and after backward the gradients are
// averaged over all ranks' examples, so every rank takes the same optimizer step.
//   auto& world = tg::distributed::ProcessGroup::world();
//   tg::distributed::DistributedDataParallel ddp(model, world);   // rank 0's weights everywhere
//   tg::io::DataLoader loader(data, tg::distributed::shard_for_rank({.batch_size = 50}, world));
//   for (tg::io::Batch b; epoch->next(&b);) {
//     optimizer.zero_grad();
//     ddp.prepare_for_backward(b.targets.numel());  // all-reduce buckets during backward
//     if (b.targets.numel() > 0) tg::cross_entropy((*model)(b.inputs), b.targets).backward();
//     ddp.synchronize_gradients(b.targets.numel());
//     optimizer.step();
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "distributed/process_group.h"
#include "io/data_loader.h"
#include "nn/module.h"

namespace tg::distributed {

// Overwrites every rank's parameters and buffers with root's (in registration order).
void broadcast_parameters(nn::Module& module, ProcessGroup& group, int root = 0);

// True on every rank iff every rank holds exactly rank 0's bytes in every parameter and buffer
// (a collective: every rank must call it).
bool replicas_identical(nn::Module& module, ProcessGroup& group);

// The distributed sampler: `options` sharded for this rank (see DataLoaderOptions::num_shards).
// Each step's global batch is batch_size * world size examples of the epoch's seeded shuffle; the
// ranks' parts are disjoint, their union is the step's global batch and, over an epoch, the whole
// dataset; every rank has the same number of steps.
io::DataLoaderOptions shard_for_rank(io::DataLoaderOptions options, const ProcessGroup& group);

// How float32 gradients travel: as they are, or as bfloat16 (half the bytes; each rank's
// contribution and each partial sum rounded to 8 significant bits, which SGD and Adam tolerate;
// float32's range, so no loss scaling is needed as float16 would). float64 gradients are never
// compressed.
enum class GradientCompression { kNone, kBFloat16 };

struct DataParallelOptions {
  // Gradients travel in buckets of about this size (a parameter larger than it gets its own).
  int64_t bucket_bytes = 4 << 20;
  // What else must agree across ranks (batch size, learning rate, ...: the program's settings as
  // text). With the parameters' names, shapes and dtypes and tapegrad's version it is compared
  // across ranks at construction; a difference is refused on every rank, naming it.
  std::string config;
  // Splits sync_seconds() into waiting for the slowest rank to arrive and the communication left
  // to wait for after that, by comparing the ranks' arrival times on the steady clock: only
  // meaningful when the ranks share one machine's clock (distributed/two_hosts.sh). One more
  // small all-reduce per step.
  bool time_communication = false;
  GradientCompression compression = GradientCompression::kNone;
};

// Note [Overlapping gradient all-reduce]: with prepare_for_backward(n) before backward, each
// bucket's all-reduce starts as soon as backward has accumulated the last of its gradients
// (post-accumulate-grad hooks), and the process group's progress thread moves the reductions on
// (Note [Progress thread]), so communication runs while backward computes the rest.
// Buckets start strictly in bucket order (the reverse of registration, about the order backward
// finishes them), the same on every rank whatever the timing, as MPI's collectives require; a
// bucket whose gradients never arrive (unused parameters, a rank without examples) starts in
// synchronize_gradients with zeros. Without prepare_for_backward, all of it runs in
// synchronize_gradients (no overlap).
//
//   ddp.prepare_for_backward(n);      // n: examples this rank's loss averages over
//   if (n > 0) loss.backward();
//   ddp.synchronize_gradients(n);     // waits for the rest; grads = global mean
//
// Gradient accumulation over micro-batches (PyTorch's no_sync): inside a no_sync() scope
// backward only accumulates locally; the step's last backward, outside it, synchronizes the sum.
class DistributedDataParallel {
 public:
  // Broadcasts rank 0's parameters and buffers, checks the ranks agree (DataParallelOptions::config)
  // and plans the gradient buckets: parameters in reverse registration order (the order backward
  // finishes them), grouped by dtype.
  DistributedDataParallel(std::shared_ptr<nn::Module> module, ProcessGroup& group, DataParallelOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // Arms the overlap for the next backward (Note [Overlapping gradient all-reduce]); call on every
  // rank before it, with the same local_examples as synchronize_gradients.
  void prepare_for_backward(int64_t local_examples);

  // Call on every rank after backward, before the optimizer step. `local_examples` is the number
  // of examples this rank's loss averaged over (0 if it had no batch: its gradients count as
  // zero). Every parameter's .grad() becomes sum_r(n_r * grad_r) / sum_r(n_r), the gradient of the
  // mean loss over the global batch, bit-identical on every rank. Buffers (batch-norm running
  // statistics) are then re-broadcast from rank 0.
  void synchronize_gradients(int64_t local_examples);

  // While the returned guard lives, backward accumulates gradients locally and
  // prepare_for_backward / synchronize_gradients are refused (they belong to the step's last
  // micro-batch, after the guard).
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(DistributedDataParallel& ddp) : ddp_(ddp) { ddp_.no_sync_depth_++; }
    ~NoSyncGuard() { ddp_.no_sync_depth_--; }
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    DistributedDataParallel& ddp_;
  };
  [[nodiscard]] NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  nn::Module& module() { return *module_; }
  size_t num_buckets() const { return buckets_.size(); }
  // Wall time spent in synchronize_gradients so far: packing what backward did not start, waiting
  // for the reductions still in flight and for the slowest rank, unpacking. With the overlap this
  // is the communication backward could not hide.
  double sync_seconds() const { return sync_seconds_; }
  // With DataParallelOptions::time_communication: of sync_seconds(), the time spent waiting for
  // the slowest rank to call synchronize_gradients, and the time from then to the end of the
  // reductions (the communication that backward did not hide).
  double straggler_seconds() const { return straggler_seconds_; }
  double communication_seconds() const { return communication_seconds_; }
  // Buckets whose all-reduce started during backward, over all steps so far.
  int64_t buckets_started_in_backward() const { return buckets_started_in_backward_; }

 private:
  struct Bucket {
    std::vector<Tensor> params;
    ops::Array flat;  // the bucket's gradients, end to end
    std::vector<uint16_t> compressed;  // flat as bfloat16, when compressed
    size_t ready = 0;  // parameters whose gradient backward has accumulated this step
  };
  void on_gradient_ready(size_t bucket);
  void start_ready_buckets(bool all);
  void start_bucket(Bucket& bucket);

  std::shared_ptr<nn::Module> module_;
  ProcessGroup& group_;
  std::vector<Bucket> buckets_;
  ops::Array examples_;  // this step's example count, summed over ranks
  bool prepared_ = false;
  int64_t prepared_examples_ = 0;
  size_t next_bucket_ = 0;  // buckets before it have started this step
  int no_sync_depth_ = 0;
  std::shared_ptr<DistributedDataParallel*> self_;  // what the hooks reach; nulled at destruction
  bool time_communication_ = false;
  GradientCompression compression_ = GradientCompression::kNone;
  ops::Array last_arrival_;  // the latest arrival in synchronize_gradients over ranks (steady clock)
  double sync_seconds_ = 0, straggler_seconds_ = 0, communication_seconds_ = 0;
  int64_t buckets_started_in_backward_ = 0;
};

}  // namespace tg::distributed
