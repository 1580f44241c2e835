// tapegrad/distributed/data_parallel.h: data-parallel training over MPI. Every rank holds the
// whole model, trains on its shard of each global batch, and after backward the gradients are
// averaged over all ranks' examples, so every rank takes the same optimizer step.
//   auto& world = tg::distributed::ProcessGroup::world();
//   tg::distributed::DistributedDataParallel ddp(model, world);   // rank 0's weights everywhere
//   tg::io::DataLoader loader(data, tg::distributed::shard_for_rank({.batch_size = 50}, world));
//   for (tg::io::Batch b; epoch->next(&b);) {
//     optimizer.zero_grad();
//     if (b.targets.numel() > 0) tg::cross_entropy((*model)(b.inputs), b.targets).backward();
//     ddp.synchronize_gradients(b.targets.numel());
//     optimizer.step();
//   }
#pragma once

#include <cstdint>
#include <memory>
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

struct DataParallelOptions {
  // Gradients travel in buckets of about this size (a parameter larger than it gets its own).
  int64_t bucket_bytes = 4 << 20;
};

class DistributedDataParallel {
 public:
  // Broadcasts rank 0's parameters and buffers and plans the gradient buckets: parameters in
  // reverse registration order (the order backward finishes them), grouped by dtype.
  DistributedDataParallel(std::shared_ptr<nn::Module> module, ProcessGroup& group, DataParallelOptions options = {});

  // Call on every rank after backward, before the optimizer step. `local_examples` is the number
  // of examples this rank's loss averaged over (0 if it had no batch: its gradients count as
  // zero). Every parameter's .grad() becomes sum_r(n_r * grad_r) / sum_r(n_r), the gradient of the
  // mean loss over the global batch, bit-identical on every rank. Buffers (batch-norm running
  // statistics) are then re-broadcast from rank 0. Buckets are packed and sent one by one, the
  // reduction of one overlapping the packing of the next.
  void synchronize_gradients(int64_t local_examples);

  nn::Module& module() { return *module_; }
  size_t num_buckets() const { return buckets_.size(); }
  // Wall time spent in synchronize_gradients so far (packing, waiting for the slowest rank,
  // reducing, unpacking): what overlapping with backward could at most hide.
  double sync_seconds() const { return sync_seconds_; }

 private:
  struct Bucket {
    std::vector<Tensor> params;
    ops::Array flat;  // the bucket's gradients, end to end
  };
  std::shared_ptr<nn::Module> module_;
  ProcessGroup& group_;
  std::vector<Bucket> buckets_;
  double sync_seconds_ = 0;
};

}  // namespace tg::distributed
