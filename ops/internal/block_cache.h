// tapegrad/ops/internal/block_cache.h: the process-wide cache of freed tensor buffers that
// ops::Storage allocates from.
//
// Note [Storage cache]: a forward allocates and frees the same few buffer sizes over and over
// (every activation, every oneDNN temporary and scratchpad). glibc serves 64-byte aligned blocks
// through its slow memalign path and consolidates its heap when large blocks are freed: on a
// batch-1 ResNet forward that was a fifth of the time. Freed blocks are therefore kept in free
// lists by size class (sizes rounded up to 8 steps per power of two, so at most 1/8 is wasted)
// and handed out again, as ONNX Runtime's arena and PyTorch's GPU allocator do. Blocks above
// kMaxCachedBlock are not kept, and the cache holds at most kMaxCachedBytes: a block freed beyond
// that goes back to the system. release_cached_blocks() empties it. Under AddressSanitizer a
// cached block is poisoned, so a use after free is still reported.
#pragma once

#include <cstdint>

namespace tg::ops::internal {

inline constexpr int64_t kBlockAlignment = 64;
inline constexpr int64_t kMaxCachedBlock = int64_t{64} << 20;
inline constexpr int64_t kMaxCachedBytes = int64_t{256} << 20;

// The size (a multiple of kBlockAlignment) of the block that holds `bytes` > 0.
int64_t block_size_for(int64_t bytes);

// A block of block_size_for(bytes) bytes, 64-byte aligned, uninitialized; nullptr when the system
// has no memory.
void* take_block(int64_t bytes);
// Gives back a block that take_block(bytes) returned.
void give_block(void* block, int64_t bytes);

// Frees every cached block; returns the bytes freed.
int64_t release_cached_blocks();
// Bytes held in the cache now.
int64_t cached_block_bytes();

}  // namespace tg::ops::internal
