// tapegrad/distributed/process_group.cc: MPI initialisation and the collectives, each started
// non-blocking and waited for with the timeout of Note [Collective timeout].
#include "distributed/process_group.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
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

ProcessGroup* g_world = nullptr;

}  // namespace

uint16_t to_bfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(bits >> 16);
}

float from_bfloat16(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

namespace {

void finalize_at_exit() {
  if (g_world != nullptr) g_world->stop_progress();  // no MPI call may run during MPI_Finalize
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
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local_size_ = std::max(1, std::atoi(local));
  if (const char* timeout = std::getenv("TG_COLLECTIVE_TIMEOUT")) {
    double seconds = 0;
    TG_CHECK(absl::SimpleAtod(timeout, &seconds) && seconds > 0, "TG_COLLECTIVE_TIMEOUT='", timeout,
             "': expected a positive number of seconds");
    timeout_seconds_ = seconds;
  }
  // Note [Progress thread].
  int level = 0;
  MPI_Query_thread(&level);
  if (size_ > 1 && level >= MPI_THREAD_SERIALIZED) progress_ = std::thread([this] { progress_loop(); });
}

ProcessGroup& ProcessGroup::world() {
  static ProcessGroup* group = g_world = new ProcessGroup();  // never destroyed: MPI is finalised at exit
  return *group;
}

void ProcessGroup::set_timeout_seconds(double seconds) {
  TG_CHECK(seconds > 0, "ProcessGroup::set_timeout_seconds: expected a positive number of seconds, got ", seconds);
  timeout_seconds_ = seconds;
}

static_assert(sizeof(MPI_Request) == sizeof(void*), "Open MPI's MPI_Request is a pointer");

void ProcessGroup::wait(std::vector<void*>& handles, const char* what) {
  std::vector<MPI_Request> requests;
  for (void* r : handles) requests.push_back(reinterpret_cast<MPI_Request>(r));
  handles.clear();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (;;) {
    int done = 0;
    {
      std::lock_guard<std::mutex> lock(mpi_mutex_);
      check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE),
            "MPI_Testall");
    }
    if (done) return;
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    TG_CHECK(waited < timeout_seconds_, what, ": rank ", rank_, " of ", size_, " waited ", timeout_seconds_,
             " s for the other ranks: a peer died, hangs or cannot be reached (the limit is TG_COLLECTIVE_TIMEOUT)");
    // Spin while a fast reply is likely, then poll every 0.1 ms instead of burning a core that a
    // slower rank may need.
    if (waited > 0.002) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void ProcessGroup::collective(const char* what, const char* call, const std::function<int(MPI_Request*)>& start) {
  std::vector<void*> requests(1);
  {
    std::lock_guard<std::mutex> lock(mpi_mutex_);
    check(start(reinterpret_cast<MPI_Request*>(&requests[0])), call);
  }
  wait(requests, what);
}

void ProcessGroup::allreduce_sum(ops::Array& values) {
  start_allreduce_sum(values);
  wait_all();
}

void ProcessGroup::start_allreduce_sum(ops::Array& values) { start_allreduce(values, MPI_SUM, "allreduce_sum"); }

void ProcessGroup::start_allreduce_max(ops::Array& values) { start_allreduce(values, MPI_MAX, "allreduce_max"); }

void ProcessGroup::start_allreduce(ops::Array& values, MPI_Op op, const char* what) {
  start_allreduce(values.raw_data(), mpi_count(values, what), mpi_type(values.dtype(), what), op);
}

void ProcessGroup::start_allreduce(void* values, int count, MPI_Datatype type, MPI_Op op) {
  MPI_Request request = MPI_REQUEST_NULL;
  std::lock_guard<std::mutex> lock(mpi_mutex_);
  check(MPI_Iallreduce(MPI_IN_PLACE, values, count, type, op, MPI_COMM_WORLD, &request), "MPI_Iallreduce");
  in_flight_.push_back(reinterpret_cast<void*>(request));
}

void ProcessGroup::start_allreduce_sum_bfloat16(uint16_t* values, int64_t count) {
  TG_CHECK(count >= 0 && count <= (int64_t{1} << 31) - 1, "allreduce_sum_bfloat16: ", count,
           " elements exceed MPI's int count");
  static MPI_Op sum_bfloat16 = [] {
    MPI_Op op = MPI_OP_NULL;
    check(MPI_Op_create(
              [](void* in, void* inout, int* length, MPI_Datatype*) {
                const uint16_t* a = static_cast<const uint16_t*>(in);
                uint16_t* b = static_cast<uint16_t*>(inout);
                for (int i = 0; i < *length; ++i) b[i] = to_bfloat16(from_bfloat16(a[i]) + from_bfloat16(b[i]));
              },
              /*commute=*/1, &op),
          "MPI_Op_create");
    return op;
  }();
  start_allreduce(values, static_cast<int>(count), MPI_UINT16_T, sum_bfloat16);
}

void ProcessGroup::wait_all() {
  std::vector<void*> requests;
  {
    std::lock_guard<std::mutex> lock(mpi_mutex_);
    requests.swap(in_flight_);
  }
  wait(requests, "allreduce_sum");
}

bool ProcessGroup::poll() {
  std::lock_guard<std::mutex> lock(mpi_mutex_);
  if (in_flight_.empty()) return true;
  int done = 0;
  // Completed requests become MPI_REQUEST_NULL in place; wait_all() then finds them done.
  check(MPI_Testall(static_cast<int>(in_flight_.size()), reinterpret_cast<MPI_Request*>(in_flight_.data()), &done,
                    MPI_STATUSES_IGNORE),
        "MPI_Testall");
  if (done) in_flight_.clear();
  return done != 0;
}

void ProcessGroup::progress_loop() {
  while (!stop_progress_.load()) {
    const bool idle = poll();
    std::this_thread::sleep_for(std::chrono::microseconds(idle ? 1000 : 100));
  }
}

void ProcessGroup::stop_progress() {
  if (!progress_.joinable()) return;
  stop_progress_ = true;
  progress_.join();
}

void ProcessGroup::broadcast(ops::Array& values, int root) {
  // Agree on the byte count first (every rank learns of any mismatch, so none is left waiting):
  // a mismatch would otherwise truncate or hang.
  const int64_t bytes = values.numel() * static_cast<int64_t>(dtype_size(values.dtype()));
  int64_t root_bytes = bytes;
  collective("broadcast", "MPI_Ibcast", [&](MPI_Request* request) {
    return MPI_Ibcast(&root_bytes, 1, MPI_INT64_T, root, MPI_COMM_WORLD, request);
  });
  const std::vector<double> mismatches = sum({root_bytes != bytes ? 1.0 : 0.0});
  TG_CHECK(mismatches[0] == 0, "broadcast: rank ", rank_, " has ", bytes, " bytes (shape ", shape_str(values.shape()),
           "), rank ", root, " sends ", root_bytes, root_bytes == bytes ? " (another rank differs)" : "");
  collective("broadcast", "MPI_Ibcast", [&](MPI_Request* request) {
    return MPI_Ibcast(values.raw_data(), mpi_count(values, "broadcast"), mpi_type(values.dtype(), "broadcast"), root,
                      MPI_COMM_WORLD, request);
  });
  values.storage()->bump_version("broadcast");  // Note [Version counter] in ops/storage.h
}

std::string ProcessGroup::broadcast_string(const std::string& value, int root) {
  int64_t length = static_cast<int64_t>(value.size());
  collective("broadcast_string", "MPI_Ibcast",
             [&](MPI_Request* request) { return MPI_Ibcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD, request); });
  TG_CHECK(length >= 0 && length <= (int64_t{1} << 31) - 1, "broadcast_string: rank ", root, " sends ", length,
           " bytes");
  std::string result = rank_ == root ? value : std::string(static_cast<size_t>(length), '\0');
  collective("broadcast_string", "MPI_Ibcast", [&](MPI_Request* request) {
    return MPI_Ibcast(result.data(), static_cast<int>(length), MPI_CHAR, root, MPI_COMM_WORLD, request);
  });
  return result;
}

std::vector<double> ProcessGroup::sum(std::vector<double> values) {
  collective("sum", "MPI_Iallreduce", [&](MPI_Request* request) {
    return MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                          MPI_COMM_WORLD, request);
  });
  return values;
}

void ProcessGroup::barrier() {
  collective("barrier", "MPI_Ibarrier", [&](MPI_Request* request) { return MPI_Ibarrier(MPI_COMM_WORLD, request); });
}

void ProcessGroup::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::lock_guard<std::mutex> lock(mpi_mutex_);  // the progress thread makes no MPI call meanwhile
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

}  // namespace tg::distributed
