// tapegrad/distributed/process_group.h: the MPI world this process was launched in (mpirun):
// rank, world size and the few collectives data-parallel training needs, on tapegrad arrays.
//   auto& world = tg::distributed::ProcessGroup::world();   // MPI_Init on first use
//   if (world.rank() == 0) save(...);
// MPI is initialised once (thread level FUNNELED: only the thread that created the group calls
// MPI) and finalised at exit. Every MPI failure throws tg::Error naming the call and MPI's message.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/array.h"

namespace tg::distributed {

class ProcessGroup {
 public:
  // The world of this MPI job (a world of one when started without mpirun).
  static ProcessGroup& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ranks on this machine (from Open MPI's environment; 1 if unknown): for sharing the cores.
  int local_size() const { return local_size_; }

  // In place: every rank ends with the element-wise sum over ranks (float32, float64, int64),
  // identical bit for bit on every rank.
  void allreduce_sum(ops::Array& values);
  // The same, started without waiting (MPI_Iallreduce): the array must stay alive and untouched
  // until wait_all(), which completes every started reduction. DistributedDataParallel starts one
  // per gradient bucket while it packs the next.
  void start_allreduce_sum(ops::Array& values);
  void wait_all();
  // In place: every rank ends with root's values. Shapes and dtypes must already agree; a
  // mismatch of the byte count is caught and named.
  void broadcast(ops::Array& values, int root = 0);
  // The sums of a few doubles (metrics).
  std::vector<double> sum(std::vector<double> values);
  void barrier();
  // Ends every rank of the job with `code` (MPI_Abort): a rank that fails alone must not leave the
  // others waiting in a collective.
  [[noreturn]] void abort(int code);

  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

 private:
  ProcessGroup();
  int rank_ = 0, size_ = 1, local_size_ = 1;
  std::vector<void*> in_flight_;  // MPI_Request handles (opaque pointers in Open MPI)
};

}  // namespace tg::distributed
