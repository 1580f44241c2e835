// tapegrad/ops/storage.h: a reference-counted, 64-byte aligned byte buffer shared by array views.
#pragma once

#include <cstdint>
#include <memory>

namespace tg::ops {

class Storage {
 public:
  // Allocates nbytes (uninitialized); throws tg::Error if the allocation is impossible.
  explicit Storage(int64_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  int64_t nbytes() const { return nbytes_; }

 private:
  void* data_ = nullptr;
  int64_t nbytes_ = 0;
};

// Caps the size of every allocation on this thread for its scope (nesting keeps the smaller cap).
// Loaders use it while dry-running untrusted graphs, so a corrupt file cannot request a huge
// buffer: the allocation throws tg::Error instead.
class AllocationLimitGuard {
 public:
  explicit AllocationLimitGuard(int64_t max_bytes);
  ~AllocationLimitGuard();
  AllocationLimitGuard(const AllocationLimitGuard&) = delete;
  AllocationLimitGuard& operator=(const AllocationLimitGuard&) = delete;

 private:
  int64_t previous_;
};

}  // namespace tg::ops
