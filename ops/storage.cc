// tapegrad/ops/storage.cc: aligned allocation with a clear error on failure.
#include "ops/storage.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "ops/error.h"

namespace tg::ops {

namespace {
constexpr int64_t kAlignment = 64;
constexpr int64_t kMaxBytes = int64_t{1} << 46;  // 64 TiB: anything larger is a shape bug
// Note [Allocator reuse]: training allocates and frees the same large buffers every step. glibc
// serves blocks above 128 KiB with fresh mmaps by default, so every step would page-fault and
// zero them again; keeping large blocks in the heap lets freed buffers be reused.
const bool kMallocTuned = [] {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return true;
}();

thread_local int64_t allocation_limit = kMaxBytes;
}  // namespace

AllocationLimitGuard::AllocationLimitGuard(int64_t max_bytes) : previous_(allocation_limit) {
  allocation_limit = std::min(allocation_limit, max_bytes);
}
AllocationLimitGuard::~AllocationLimitGuard() { allocation_limit = previous_; }

Storage::Storage(int64_t nbytes) : nbytes_(nbytes) {
  TG_CHECK(nbytes >= 0 && nbytes <= kMaxBytes, "allocation of ", nbytes, " bytes is out of range");
  TG_CHECK(nbytes <= allocation_limit, "allocation of ", nbytes, " bytes exceeds the limit of ", allocation_limit,
           " bytes in force here");
  const int64_t rounded = ((nbytes + kAlignment - 1) / kAlignment) * kAlignment;
  if (rounded == 0) return;
  data_ = std::aligned_alloc(kAlignment, rounded);
  TG_CHECK(data_ != nullptr, "out of memory allocating ", nbytes, " bytes");
}

Storage::~Storage() { std::free(data_); }

}  // namespace tg::ops
