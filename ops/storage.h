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

}  // namespace tg::ops
