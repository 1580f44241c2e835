// tapegrad/ops/block_cache_test.cc: the storage cache (Note [Storage cache] in
// ops/internal/block_cache.h): size classes, reuse, its bounds and release. Its own binary, so
// that the bytes it counts are only its own.
#include "ops/internal/block_cache.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "ops/storage.h"

namespace tg::ops::internal {
namespace {

TEST(BlockCache, SizeClassesWasteAtMostAnEighth) {
  EXPECT_EQ(block_size_for(1), 64);
  EXPECT_EQ(block_size_for(512), 512);
  EXPECT_EQ(block_size_for(513), 576);
  EXPECT_EQ(block_size_for(4096), 4096);
  EXPECT_EQ(block_size_for(4097), 4608);
  for (int64_t bytes = 1; bytes < (int64_t{1} << 22); bytes = bytes * 5 / 4 + 7) {
    const int64_t size = block_size_for(bytes);
    EXPECT_GE(size, bytes);
    EXPECT_EQ(size % kBlockAlignment, 0);
    EXPECT_LE(size, std::max<int64_t>(bytes + kBlockAlignment - 1, bytes + bytes / 8 + kBlockAlignment)) << bytes;
  }
  EXPECT_EQ(block_size_for(kMaxCachedBlock + 1), kMaxCachedBlock + kBlockAlignment) << "beyond the cache: exact";
}

TEST(BlockCache, FreedBlocksOfAClassAreReused) {
  release_cached_blocks();
  void* a = take_block(100000);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % kBlockAlignment, 0);
  std::memset(a, 1, 100000);
  give_block(a, 100000);
  EXPECT_EQ(cached_block_bytes(), block_size_for(100000));
  void* b = take_block(block_size_for(100000) - 10);  // another size of the same class
  EXPECT_EQ(b, a);
  EXPECT_EQ(cached_block_bytes(), 0);
  give_block(b, block_size_for(100000) - 10);
  EXPECT_EQ(release_cached_blocks(), block_size_for(100000));
  EXPECT_EQ(cached_block_bytes(), 0);
}

TEST(BlockCache, HoldsAtMostItsBound) {
  release_cached_blocks();
  const int64_t bytes = 8 << 20;
  std::vector<void*> blocks;
  for (int64_t held = 0; held <= kMaxCachedBytes + bytes; held += bytes) blocks.push_back(take_block(bytes));
  for (void* b : blocks) give_block(b, bytes);
  EXPECT_LE(cached_block_bytes(), kMaxCachedBytes);
  EXPECT_GT(cached_block_bytes(), kMaxCachedBytes - bytes);
  void* huge = take_block(kMaxCachedBlock + 1);
  give_block(huge, kMaxCachedBlock + 1);
  EXPECT_LE(cached_block_bytes(), kMaxCachedBytes) << "blocks beyond kMaxCachedBlock are not kept";
  release_cached_blocks();
}

TEST(BlockCache, StoragesAllocateFromIt) {
  release_cached_blocks();
  const void* first = nullptr;
  {
    Storage s(300000);
    first = s.data();
  }
  EXPECT_EQ(cached_block_bytes(), block_size_for(300000));
  Storage again(310000);  // the same size class
  EXPECT_EQ(again.data(), first);
  Storage empty(0);
  EXPECT_EQ(empty.data(), nullptr);
}

}  // namespace
}  // namespace tg::ops::internal
