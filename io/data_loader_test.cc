// tapegrad/io/data_loader_test.cc: batching, drop_last, seeded per-epoch shuffling that covers
// every sample once, transforms (the random ones repeatable for any number of workers),
// prefetching on several workers and error propagation.
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

// Images 0..N-1 of [N, C, H, W] with distinct values, labels 0..N-1.
TensorDataset images(int64_t n, int64_t c, int64_t h, int64_t w) {
  return TensorDataset(arange(0, n * c * h * w, 1, kFloat32).reshape({n, c, h, w}), arange(0, n, 1, kInt64));
}

// Note [Batch generators]: random transforms give the same batches whichever worker made each
// batch, for any num_workers and without workers.
TEST(DataLoader, RandomTransformsGiveTheSameBatchesForAnyNumberOfWorkers) {
  const Transform augment = compose({random_crop(4, 2), random_horizontal_flip()});
  std::vector<Tensor> reference;
  for (int workers : {1, 3}) {
    for (int prefetch : {0, 2}) {
      DataLoader loader(images(30, 2, 4, 4), {.batch_size = 4, .seed = 9, .prefetch = prefetch, .num_workers = workers},
                        augment);
      auto e = loader.epoch(1);
      std::vector<Tensor> got;
      for (Batch b; e->next(&b);) got.push_back(cat({b.inputs.flatten(), b.targets.to(kFloat32)}));
      if (reference.empty()) {
        reference = got;
        continue;
      }
      ASSERT_EQ(got.size(), reference.size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(equal(got[i], reference[i])) << "batch " << i;
    }
  }
  // Another epoch draws other crops.
  DataLoader loader(images(30, 2, 4, 4), {.batch_size = 4, .seed = 9, .prefetch = 0}, augment);
  Batch first;
  loader.epoch(2)->next(&first);
  EXPECT_FALSE(equal(cat({first.inputs.flatten(), first.targets.to(kFloat32)}), reference[0]));
}

TEST(Transforms, CropFlipNormalizeAndCompose) {
  const Batch b{arange(0, 2 * 9, 1, kFloat32).reshape({2, 1, 3, 3}), arange(0, 2, 1, kInt64)};
  EXPECT_TRUE(equal(random_crop(3)(b).inputs, b.inputs));  // no padding, full size: the image
  manual_seed(1);
  const Tensor crops = random_crop(3, 1)(b).inputs;
  EXPECT_EQ(crops.shape(), (Shape{2, 1, 3, 3}));
  // A crop of the zero-padded image: every value is 0 or one of its own image's.
  for (int64_t i = 0; i < 2; ++i) {
    for (float v : crops.select(0, i).to_vector<float>()) EXPECT_TRUE(v == 0 || (v >= 9 * i && v < 9 * (i + 1))) << v;
  }
  const Tensor flipped = random_horizontal_flip(1.0)(b).inputs;
  EXPECT_EQ(flipped.select(0, 0).select(0, 0).select(0, 0).to_vector<float>(), (std::vector<float>{2, 1, 0}));
  EXPECT_TRUE(equal(random_horizontal_flip(0.0)(b).inputs, b.inputs));
  const Batch two{ones({1, 2, 1, 2}), zeros({1}, kInt64)};
  EXPECT_EQ(normalize({0.5, 2.0}, {0.5, 4.0})(two).inputs.to_vector<float>(), (std::vector<float>{1, 1, -0.25, -0.25}));
  const Transform twice = compose({normalize({0.5, 2.0}, {0.5, 4.0}), normalize({1.0, 0.0}, {1.0, 1.0})});
  EXPECT_EQ(twice(two).inputs.to_vector<float>(), (std::vector<float>{0, 0, -0.25, -0.25}));
  EXPECT_THROW(random_crop(8, 1)(b), Error);  // does not fit 3 + 2
  EXPECT_THROW(random_crop(0), Error);
  EXPECT_THROW(random_horizontal_flip(1.5), Error);
  EXPECT_THROW(normalize(std::vector<double>{0.5}, std::vector<double>{0.5})(two), Error);  // one mean, two channels
  EXPECT_THROW(random_crop(2)(Batch{ones({2, 3}), zeros({2}, kInt64)}), Error);
  const Batch rgb{arange(0, 2 * 12, 1, kFloat32).reshape({2, 3, 2, 2}), arange(0, 2, 1, kInt64)};
  const Tensor last = compose({normalize(1.0, 2.0), to_memory_format(MemoryFormat::ChannelsLast)})(rgb).inputs;
  EXPECT_EQ(last.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_TRUE(equal(last, normalize(1.0, 2.0)(rgb).inputs));
  EXPECT_EQ(to_memory_format(MemoryFormat::ChannelsLast)(b).inputs.data_ptr<float>(), b.inputs.data_ptr<float>())
      << "one channel: a view";
  EXPECT_THROW(to_memory_format(MemoryFormat::ChannelsLast)(Batch{ones({2, 3}), zeros({2}, kInt64)}), Error);
  // The transforms wrote into copies: the batch they were given is as it was.
  normalize(1.0, 2.0)(b);
  EXPECT_TRUE(equal(b.inputs, arange(0, 2 * 9, 1, kFloat32).reshape({2, 1, 3, 3})));
}

TEST(DataLoader, ErrorsReachTheCallerFromAnyWorker) {
  DataLoader loader(dataset(10), {.batch_size = 2, .num_workers = 3}, [](Batch b) -> Batch {
    if (b.targets.to_vector<int64_t>()[0] >= 0) throw Error("transform failed");
    return b;
  });
  auto e = loader.epoch(0);
  Batch b;
  EXPECT_THROW(e->next(&b), Error);
  EXPECT_THROW(DataLoader(dataset(4), {.num_workers = 0}), Error);
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
