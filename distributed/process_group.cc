// tapegrad/distributed/process_group.cc: MPI initialisation and the collectives.
#include "distributed/process_group.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ops/error.h"

namespace tg::distributed {

namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  throw Error(std::string(call) + " failed: " + std::string(message, length));
}

MPI_Datatype mpi_type(DType dtype, const char* op) {
  switch (dtype) {
    case kFloat32: return MPI_FLOAT;
    case kFloat64: return MPI_DOUBLE;
    case kInt64: return MPI_INT64_T;
    default: throw Error(std::string(op) + ": dtype " + dtype_name(dtype) + " is not supported");
  }
}

int mpi_count(const ops::Array& a, const char* op) {
  TG_CHECK(a.is_contiguous(), op, ": expected a contiguous array, got shape ", shape_str(a.shape()));
  TG_CHECK(a.numel() <= (int64_t{1} << 31) - 1, op, ": ", a.numel(), " elements exceed MPI's int count");
  return static_cast<int>(a.numel());
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

ProcessGroup::ProcessGroup() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local_size_ = std::max(1, std::atoi(local));
}

ProcessGroup& ProcessGroup::world() {
  static ProcessGroup* group = new ProcessGroup();  // never destroyed: MPI is finalised at exit
  return *group;
}

static_assert(sizeof(MPI_Request) == sizeof(void*), "Open MPI's MPI_Request is a pointer");

void ProcessGroup::allreduce_sum(ops::Array& values) {
  start_allreduce_sum(values);
  wait_all();
}

void ProcessGroup::start_allreduce_sum(ops::Array& values) {
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Iallreduce(MPI_IN_PLACE, values.raw_data(), mpi_count(values, "allreduce_sum"),
                       mpi_type(values.dtype(), "allreduce_sum"), MPI_SUM, MPI_COMM_WORLD, &request),
        "MPI_Iallreduce");
  in_flight_.push_back(reinterpret_cast<void*>(request));
}

void ProcessGroup::wait_all() {
  std::vector<MPI_Request> requests;
  for (void* r : in_flight_) requests.push_back(reinterpret_cast<MPI_Request>(r));
  in_flight_.clear();
  check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
}

void ProcessGroup::broadcast(ops::Array& values, int root) {
  // Agree on the byte count first (every rank learns of any mismatch, so none is left waiting):
  // a mismatch would otherwise truncate or hang.
  const int64_t bytes = values.numel() * static_cast<int64_t>(dtype_size(values.dtype()));
  int64_t root_bytes = bytes;
  check(MPI_Bcast(&root_bytes, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  int mismatch = root_bytes != bytes;
  check(MPI_Allreduce(MPI_IN_PLACE, &mismatch, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  TG_CHECK(!mismatch, "broadcast: rank ", rank_, " has ", bytes, " bytes (shape ", shape_str(values.shape()),
           "), rank ", root, " sends ", root_bytes, root_bytes == bytes ? " (another rank differs)" : "");
  check(MPI_Bcast(values.raw_data(), mpi_count(values, "broadcast"), mpi_type(values.dtype(), "broadcast"), root,
                  MPI_COMM_WORLD),
        "MPI_Bcast");
}

std::vector<double> ProcessGroup::sum(std::vector<double> values) {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                      MPI_COMM_WORLD),
        "MPI_Allreduce");
  return values;
}

void ProcessGroup::barrier() { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

void ProcessGroup::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

}  // namespace tg::distributed
