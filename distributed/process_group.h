// tapegrad/distributed/process_group.h: the MPI world this process was launched in (mpirun):
// rank, world size and the few collectives data-parallel training needs, on tapegrad arrays.
//   auto& world = tg::distributed::ProcessGroup::world();   // MPI_Init on first use
//   if (world.rank() == 0) save(...);
// MPI is initialised once (thread level SERIALIZED: calls from several threads, one at a time,
// under the group's mutex) and finalised at exit. Every MPI failure throws tg::Error naming the call and MPI's message.
// Note [Collective timeout]: every collective waits at most timeout_seconds() (default 60, or
// $TG_COLLECTIVE_TIMEOUT) for the other ranks; past it, it throws naming the collective, the rank
// and the wait: a peer that died or hangs must not leave the others waiting for ever (Open MPI's
// mpirun also ends the job when a rank's process dies, and names it). The collective is still
// pending in MPI then and may yet write into its buffer: end the job (abort()), as mnist_cnn does.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ops/array.h"

// Open MPI's request handle, without including mpi.h here.
typedef struct ompi_request_t* MPI_Request;
typedef struct ompi_op_t* MPI_Op;
typedef struct ompi_datatype_t* MPI_Datatype;

namespace tg::distributed {

// bfloat16 (the top half of a float32's bits), rounded to nearest even; NaN stays NaN.
uint16_t to_bfloat16(float value);
float from_bfloat16(uint16_t value);

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
  // The same with the element-wise maximum.
  void start_allreduce_max(ops::Array& values);
  // The sum of `count` bfloat16 values (raw bits) in place, started like start_allreduce_sum:
  // each addition in float32, rounded to bfloat16 to nearest even (gradient compression).
  void start_allreduce_sum_bfloat16(uint16_t* values, int64_t count);
  void wait_all();
  // Lets the started reductions progress without waiting (Open MPI moves a non-blocking
  // collective on only inside MPI calls); true when none is left in flight.
  // Note [Progress thread]: in a world of several ranks a background thread does this every
  // 0.1 ms while reductions are in flight (1 ms when idle), so they move on while the caller
  // computes (Open MPI 4.1 has no progress thread of its own for TCP); stopped before MPI_Finalize.
  bool poll();
  void stop_progress();
  // In place: every rank ends with root's values. Shapes and dtypes must already agree; a
  // mismatch of the byte count is caught and named.
  void broadcast(ops::Array& values, int root = 0);
  // Root's string on every rank (any length).
  std::string broadcast_string(const std::string& value, int root = 0);
  // The sums of a few doubles (metrics).
  std::vector<double> sum(std::vector<double> values);
  void barrier();
  // Ends every rank of the job with `code` (MPI_Abort): a rank that fails alone must not leave the
  // others waiting in a collective.
  [[noreturn]] void abort(int code);

  // Note [Collective timeout].
  double timeout_seconds() const { return timeout_seconds_; }
  void set_timeout_seconds(double seconds);

  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

 private:
  ProcessGroup();
  // Waits for `requests` (MPI_Request handles), polling, up to the timeout; `what` names the
  // collective in the error.
  void wait(std::vector<void*>& requests, const char* what);
  void progress_loop();
  void start_allreduce(ops::Array& values, MPI_Op op, const char* what);
  void start_allreduce(void* values, int count, MPI_Datatype type, MPI_Op op);
  // Starts one collective under the mutex (start(request) returns MPI's code; `call` names it in
  // an error) and waits for it.
  void collective(const char* what, const char* call, const std::function<int(MPI_Request*)>& start);
  int rank_ = 0, size_ = 1, local_size_ = 1;
  double timeout_seconds_ = 60;
  std::vector<void*> in_flight_;  // MPI_Request handles (opaque pointers in Open MPI)
  std::mutex mpi_mutex_;          // held for every MPI call and for in_flight_
  std::atomic<bool> stop_progress_{false};
  std::thread progress_;
};

}  // namespace tg::distributed
