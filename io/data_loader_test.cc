// tapegrad/io/data_loader_test.cc: batching, drop_last, seeded per-epoch shuffling that covers
// every sample once, transforms, prefetching and error propagation.
#include "io/data_loader.h"

#include <set>

#include "autograd/functions.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg::io {
namespace {

TensorDataset dataset(int64_t n) {
  return TensorDataset(arange(0, n, 1, kFloat32).reshape({n, 1}), arange(0, n, 1, kInt64));
}

std::vector<std::vector<int64_t>> collect(const DataLoader& loader, int64_t epoch) {
  std::vector<std::vector<int64_t>> out;
  auto e = loader.epoch(epoch);
  for (Batch b; e->next(&b);) {
    out.push_back(b.targets.to_vector<int64_t>());
    EXPECT_EQ(b.inputs.to_vector<int64_t>(), out.back());  // inputs and targets stay paired
  }
  return out;
}

TEST(DataLoader, BatchesInOrderWithoutShuffle) {
  DataLoader loader(dataset(7), {.batch_size = 3, .shuffle = false});
  EXPECT_EQ(loader.num_batches(), 3);
  auto batches = collect(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2], (std::vector<int64_t>{6}));
  DataLoader dropping(dataset(7), {.batch_size = 3, .shuffle = false, .drop_last = true});
  EXPECT_EQ(collect(dropping, 0).size(), 2u);
}

TEST(DataLoader, ShuffleIsSeededPerEpochAndCoversEverySample) {
  for (int prefetch : {0, 2}) {
    DataLoader a(dataset(100), {.batch_size = 16, .seed = 5, .prefetch = prefetch});
    DataLoader b(dataset(100), {.batch_size = 16, .seed = 5, .prefetch = prefetch});
    DataLoader c(dataset(100), {.batch_size = 16, .seed = 6, .prefetch = prefetch});
    EXPECT_EQ(collect(a, 0), collect(b, 0));
    EXPECT_NE(collect(a, 0), collect(a, 1));
    EXPECT_NE(collect(a, 0), collect(c, 0));
    std::set<int64_t> seen;
    for (auto& batch : collect(a, 3)) seen.insert(batch.begin(), batch.end());
    EXPECT_EQ(seen.size(), 100u);
  }
}

TEST(DataLoader, TransformAndNormalize) {
  DataLoader loader(dataset(4), {.batch_size = 4, .shuffle = false}, normalize(1.0, 2.0));
  auto e = loader.epoch(0);
  Batch b;
  ASSERT_TRUE(e->next(&b));
  EXPECT_EQ(b.inputs.to_vector<float>(), (std::vector<float>{-0.5f, 0.0f, 0.5f, 1.0f}));
  EXPECT_FALSE(e->next(&b));
}

TEST(DataLoader, ErrorsInATransformReachTheCaller) {
  DataLoader loader(dataset(10), {.batch_size = 2}, [](Batch) -> Batch { throw Error("transform failed"); });
  auto e = loader.epoch(0);
  Batch b;
  EXPECT_THROW(e->next(&b), Error);
}

TEST(DataLoader, AbandoningAnEpochEarlyIsSafe) {
  DataLoader loader(dataset(1000), {.batch_size = 10, .prefetch = 4});
  for (int i = 0; i < 5; ++i) {
    auto e = loader.epoch(i);
    Batch b;
    ASSERT_TRUE(e->next(&b));
  }  // destroyed with batches still being produced
}

// Sharding for data-parallel training: 3 shards, per-shard batch 4, 23 samples (a partial last
// global batch of 11). Every shard has the same number of batches; at each step the shards are
// disjoint and their concatenation is exactly the unsharded loader's batch of 12; over the epoch
// the union is every sample once.
TEST(DataLoader, ShardsSplitEachGlobalBatch) {
  DataLoader whole(dataset(23), {.batch_size = 12, .seed = 3});
  const auto global = collect(whole, 1);
  std::vector<std::vector<std::vector<int64_t>>> shards;
  for (int64_t s = 0; s < 3; ++s) {
    DataLoader part(dataset(23), {.batch_size = 4, .seed = 3, .num_shards = 3, .shard = s});
    EXPECT_EQ(part.num_batches(), 2);
    shards.push_back(collect(part, 1));
    ASSERT_EQ(shards.back().size(), 2u);
  }
  std::multiset<int64_t> seen;
  for (size_t step = 0; step < 2; ++step) {
    std::vector<int64_t> joined;
    for (const auto& shard : shards) joined.insert(joined.end(), shard[step].begin(), shard[step].end());
    EXPECT_EQ(joined, global[step]) << "step " << step;
    seen.insert(joined.begin(), joined.end());
  }
  EXPECT_EQ(shards[0][1].size() + shards[1][1].size() + shards[2][1].size(), 11u);
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 23u);
  // A global remainder smaller than the shard count leaves some parts empty, still one batch each.
  DataLoader tiny(dataset(3), {.batch_size = 2, .shuffle = false, .num_shards = 4, .shard = 0});
  const auto tiny_batches = collect(tiny, 0);
  ASSERT_EQ(tiny_batches.size(), 1u);
  EXPECT_TRUE(tiny_batches[0].empty());
}

TEST(DataLoader, BadArguments) {
  EXPECT_THROW(TensorDataset(zeros({3, 2}), zeros({4})), Error);
  EXPECT_THROW(DataLoader(dataset(3), {.batch_size = 0}), Error);
  EXPECT_THROW(DataLoader(dataset(3), {.batch_size = 1, .num_shards = 2, .shard = 2}), Error);
  EXPECT_THROW(DataLoader(dataset(3), {.batch_size = 1, .num_shards = 0}), Error);
}

}  // namespace
}  // namespace tg::io
