// tapegrad/ops/storage.cc: aligned allocation (from the block cache: Note [Storage cache] in
// ops/internal/block_cache.h) with a clear error on failure.
#include "ops/storage.h"

#include <malloc.h>

#include <algorithm>

#include "ops/error.h"
#include "ops/internal/block_cache.h"

namespace tg::ops {

namespace {
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
  if (nbytes == 0) return;
  data_ = internal::take_block(nbytes);
  TG_CHECK(data_ != nullptr, "out of memory allocating ", nbytes, " bytes");
}

Storage::~Storage() { internal::give_block(data_, nbytes_); }

}  // namespace tg::ops
