// tapegrad/ops/storage.h: a reference-counted, 64-byte aligned byte buffer shared by array views.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

  // Note [Version counter]: every in-place write through a tensor (add_, an optimizer step,
  // ops::copy_into, a parameter broadcast...) bumps the version of the storage it writes, shared
  // by all views of it. A value saved for backward remembers the version it was saved at, so
  // backward can refuse a value that was overwritten since; packed inference weights (Note
  // [Packed weights] in ops/internal/onednn.h) are packed again when it moved. Code that writes
  // through a raw pointer (Tensor::data_ptr) must bump it itself. `writer` names the operation,
  // for that error.
  uint64_t version() const { return version_; }
  const std::string& last_writer() const { return last_writer_; }
  void bump_version(std::string_view writer) {
    ++version_;
    last_writer_.assign(writer);
  }

 private:
  void* data_ = nullptr;
  int64_t nbytes_ = 0;
  uint64_t version_ = 0;
  std::string last_writer_;
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
