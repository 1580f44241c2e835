// tapegrad/ops/internal/block_cache.cc: see block_cache.h (Note [Storage cache]).
#include "ops/internal/block_cache.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TG_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TG_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TG_POISON(p, n) ((void)(p), (void)(n))
#define TG_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tg::ops::internal {

namespace {

struct Cache {
  std::mutex mu;
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;  // by block size
  int64_t bytes = 0;
};

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: buffers may be freed during static destruction
  return *c;
}

}  // namespace

int64_t block_size_for(int64_t bytes) {
  const int64_t aligned = (bytes + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
  if (aligned <= 8 * kBlockAlignment || aligned > kMaxCachedBlock) return aligned;
  const int64_t step = int64_t{1} << (63 - __builtin_clzll(static_cast<uint64_t>(aligned)) - 3);
  return (aligned + step - 1) / step * step;
}

void* take_block(int64_t bytes) {
  const int64_t size = block_size_for(bytes);
  if (size <= kMaxCachedBlock) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      c.bytes -= size;
      TG_UNPOISON(block, size);
      return block;
    }
  }
  return std::aligned_alloc(kBlockAlignment, size);
}

void give_block(void* block, int64_t bytes) {
  if (block == nullptr) return;
  const int64_t size = block_size_for(bytes);
  if (size <= kMaxCachedBlock) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.bytes + size <= kMaxCachedBytes) {
      TG_POISON(block, size);
      c.free_blocks[size].push_back(block);
      c.bytes += size;
      return;
    }
  }
  std::free(block);
}

int64_t release_cached_blocks() {
  Cache& c = cache();
  std::unordered_map<int64_t, std::vector<void*>> blocks;
  int64_t released = 0;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    blocks.swap(c.free_blocks);
    released = c.bytes;
    c.bytes = 0;
  }
  for (auto& [size, list] : blocks) {
    for (void* block : list) {
      TG_UNPOISON(block, size);
      std::free(block);
    }
  }
  return released;
}

int64_t cached_block_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

}  // namespace tg::ops::internal
