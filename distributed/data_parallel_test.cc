// tapegrad/distributed/data_parallel_test.cc: run under `mpirun -np 2` (see mpirun_test.sh).
// The collectives; broadcast_parameters; and the equivalence that makes data parallelism correct:
// W ranks with per-rank batch B take the same steps, to float tolerance, as one process with batch
// W*B (every rank recomputes that single-process reference locally), with parameters bit-identical
// on every rank after every step, including a ragged last batch that leaves a rank empty-handed.
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include "autograd/tapegrad.h"
#include "distributed/data_parallel.h"
#include "gtest/gtest.h"
#include "nn/nn.h"
#include "optim/optim.h"

namespace tg::distributed {
namespace {

ProcessGroup& world() { return ProcessGroup::world(); }

bool replicas_identical(nn::Module& module) { return distributed::replicas_identical(module, world()); }

std::shared_ptr<nn::Sequential> small_model() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 3, 3).padding(1)), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(3 * 5 * 5, 4)});
}

TEST(ProcessGroup, CollectivesSumAndBroadcast) {
  ASSERT_GE(world().size(), 2) << "run under mpirun -np 2 or more";
  const int r = world().rank(), w = world().size();
  ops::Array f = ops::Array::from_vector(std::vector<float>{1.0f * r, 2.0f}, {2});
  world().allreduce_sum(f);
  EXPECT_EQ(f.data<float>()[0], w * (w - 1) / 2.0f);
  EXPECT_EQ(f.data<float>()[1], 2.0f * w);
  ops::Array i = ops::Array::from_vector(std::vector<int64_t>{r + 1}, {1});
  world().allreduce_sum(i);
  EXPECT_EQ(i.data<int64_t>()[0], w * (w + 1) / 2);
  ops::Array b = ops::Array::from_vector(std::vector<double>{r * 10.0, -1.0}, {2});
  world().broadcast(b, 1);
  EXPECT_EQ(b.data<double>()[0], 10.0);
  EXPECT_EQ(world().sum({1.0, double(r)}), (std::vector<double>{double(w), w * (w - 1) / 2.0}));
}

TEST(ProcessGroup, BroadcastOfMismatchedSizesFailsOnEveryRank) {
  ops::Array a = ops::Array::zeros({world().rank() == 0 ? 3 : 4}, kFloat32);
  try {
    world().broadcast(a, 0);
    FAIL() << "no error on rank " << world().rank();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broadcast: rank"), std::string::npos) << e.what();
  }
}

TEST(DataParallel, ConstructorBroadcastsRankZerosWeights) {
  manual_seed(100 + world().rank());  // different initial weights on every rank
  auto model = small_model();
  EXPECT_FALSE(replicas_identical(*model));
  DistributedDataParallel ddp(model, world());
  EXPECT_TRUE(replicas_identical(*model));
}

// W ranks x batch B against one process x batch W*B, over `steps` SGD-with-momentum steps on
// `n` samples (a ragged tail when n is not a multiple of W*B). Returns the max |difference|.
// With `overlap`, buckets all-reduce during backward (prepare_for_backward).
double equivalence_gap(int64_t n, int64_t per_rank_batch, int64_t bucket_bytes, int epochs, bool overlap) {
  manual_seed(7);
  const Tensor x = randn({n, 1, 5, 5});
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back((i * 7) % 4);
  const Tensor y = tensor(labels);
  manual_seed(1);
  auto reference = small_model();
  manual_seed(1);
  auto replica = small_model();
  DistributedDataParallel ddp(replica, world(), {.bucket_bytes = bucket_bytes});
  optim::SGD ref_opt(reference->parameters(), 0.1, {.momentum = 0.9});
  optim::SGD opt(replica->parameters(), 0.1, {.momentum = 0.9});
  const io::DataLoaderOptions global{.batch_size = per_rank_batch * world().size(), .seed = 3, .prefetch = 0};
  io::DataLoader ref_loader(io::TensorDataset(x, y), global);
  io::DataLoader loader(io::TensorDataset(x, y),
                        shard_for_rank({.batch_size = per_rank_batch, .seed = 3, .prefetch = 0}, world()));
  EXPECT_EQ(loader.num_batches(), ref_loader.num_batches());
  for (int e = 0; e < epochs; ++e) {
    auto ref_epoch = ref_loader.epoch(e);
    auto epoch = loader.epoch(e);
    for (io::Batch rb, b; ref_epoch->next(&rb);) {
      EXPECT_TRUE(epoch->next(&b));
      ref_opt.zero_grad();
      cross_entropy((*reference)(rb.inputs), rb.targets).backward();
      ref_opt.step();
      opt.zero_grad();
      if (overlap) ddp.prepare_for_backward(b.targets.numel());
      if (b.targets.numel() > 0) cross_entropy((*replica)(b.inputs), b.targets).backward();
      ddp.synchronize_gradients(b.targets.numel());
      opt.step();
      EXPECT_TRUE(replicas_identical(*replica)) << "replicas differ after a step";
    }
  }
  double gap = 0;
  const auto ref_params = reference->parameters(), params = replica->parameters();
  for (size_t i = 0; i < params.size(); ++i)
    gap = std::max(gap, max(abs(sub(ref_params[i], params[i]))).item());
  return gap;
}

TEST(DataParallel, TwoRanksMatchOneProcessWithTheGlobalBatch) {
  // 48 samples, 2 ranks x 8 = global 16: three full steps per epoch, two epochs.
  for (bool overlap : {false, true}) EXPECT_LT(equivalence_gap(48, 8, 4 << 20, 2, overlap), 1e-5) << overlap;
}

TEST(DataParallel, RaggedLastBatchAndSmallBucketsStillMatch) {
  // 16*2 + 1 samples: the last global batch has 1 example, so some rank gets none; buckets of 64
  // bytes put every parameter in its own bucket.
  const int64_t per_rank = 8, n = 2 * per_rank * world().size() + 1;
  for (bool overlap : {false, true}) EXPECT_LT(equivalence_gap(n, per_rank, 64, 2, overlap), 1e-5) << overlap;
}

TEST(DataParallel, BucketsFollowTheSizeLimit) {
  auto model = small_model();
  DistributedDataParallel one(model, world());
  EXPECT_EQ(one.num_buckets(), 1u);
  DistributedDataParallel each(model, world(), {.bucket_bytes = 1});
  EXPECT_EQ(each.num_buckets(), model->parameters().size());
}

TEST(DataParallel, BuffersFollowRankZero) {
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::BatchNorm1d>(4)});
  DistributedDataParallel ddp(model, world());
  manual_seed(50 + world().rank());  // different data, hence different running statistics
  sum((*model)(randn({6, 3}))).backward();
  EXPECT_FALSE(replicas_identical(*model));  // gradients and buffers not yet synchronized
  ddp.synchronize_gradients(6);
  for (const auto& [name, buffer] : model->named_buffers()) EXPECT_TRUE(buffer.defined()) << name;
  EXPECT_TRUE(replicas_identical(*model));
}

TEST(DataParallel, NoExamplesAnywhereIsAnError) {
  auto model = small_model();
  DistributedDataParallel ddp(model, world());
  EXPECT_THROW(ddp.synchronize_gradients(0), Error);
  EXPECT_THROW(ddp.synchronize_gradients(-1), Error);
}

// The gradients of one step, synchronized with or without the overlap, and how many buckets
// started during backward.
std::vector<Tensor> synchronized_gradients(bool overlap, int64_t* started_in_backward,
                                           GradientCompression compression = GradientCompression::kNone) {
  manual_seed(1);
  auto model = small_model();
  DistributedDataParallel ddp(model, world(), {.bucket_bytes = 64, .compression = compression});  // a bucket each
  manual_seed(20 + world().rank());
  const Tensor x = randn({5, 1, 5, 5}), y = tensor(std::vector<int64_t>{0, 1, 2, 3, 1});
  if (overlap) ddp.prepare_for_backward(5);
  cross_entropy((*model)(x), y).backward();
  ddp.synchronize_gradients(5);
  *started_in_backward = ddp.buckets_started_in_backward();
  std::vector<Tensor> grads;
  for (const Tensor& p : model->parameters()) grads.push_back(p.grad());
  return grads;
}

TEST(DataParallel, OverlapStartsBucketsDuringBackwardWithIdenticalResults) {
  int64_t started_after = -1, started_during = -1;
  const auto after = synchronized_gradients(false, &started_after);
  const auto during = synchronized_gradients(true, &started_during);
  EXPECT_EQ(started_after, 0);
  EXPECT_EQ(started_during, 4);  // every bucket: backward produces every gradient
  ASSERT_EQ(after.size(), during.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(equal(after[i], during[i])) << "parameter " << i;
}

TEST(GradientCompression, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(from_bfloat16(0x3f80), 1.0f);
  EXPECT_EQ(to_bfloat16(-2.5f), 0xc020);
  EXPECT_EQ(to_bfloat16(1.0f + 1.0f / 256), 0x3f80);                    // a tie: to the even 1.0
  EXPECT_EQ(to_bfloat16(1.0f + 3.0f / 256), 0x3f82);                    // a tie: to the even 1 + 2/128
  EXPECT_EQ(to_bfloat16(1.0f + 1.0f / 256 + 1.0f / 4096), 0x3f81);      // above the tie: up
  EXPECT_EQ(to_bfloat16(3.0e38f), 0x7f62);                              // float32's range stays
  EXPECT_EQ(to_bfloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(from_bfloat16(to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(from_bfloat16(to_bfloat16(-0.0f)), -0.0f);
  EXPECT_TRUE(std::signbit(from_bfloat16(to_bfloat16(-0.0f))));
}

TEST(GradientCompression, BFloat16GradientsAreCloseAndIdenticalOnEveryRank) {
  int64_t started = 0;
  const auto exact = synchronized_gradients(true, &started);
  const auto compressed = synchronized_gradients(true, &started, GradientCompression::kBFloat16);
  bool any_different = false;
  for (size_t i = 0; i < exact.size(); ++i) {
    const double scale = max(abs(exact[i])).item();
    const double gap = max(abs(sub(exact[i], compressed[i]))).item();
    EXPECT_LE(gap, 1e-2 * scale + 1e-30) << "parameter " << i;  // 8 significant bits, a few roundings
    any_different = any_different || gap > 0;
    ops::Array mine = compressed[i].data().contiguous(), root = mine.clone();
    world().broadcast(root, 0);
    EXPECT_EQ(std::memcmp(mine.raw_data(), root.raw_data(), mine.numel() * sizeof(float)), 0) << "parameter " << i;
  }
  EXPECT_TRUE(any_different) << "bfloat16 compression changed nothing: was it applied?";
}

TEST(DataParallel, NoSyncAccumulatesMicroBatchesLikeOneLargerBatch) {
  const int k = 3, b = 4;
  manual_seed(9 + world().rank());  // every rank its own data
  const Tensor x = randn({k * b, 1, 5, 5});
  std::vector<int64_t> labels;
  for (int i = 0; i < k * b; ++i) labels.push_back((i * 5 + world().rank()) % 4);
  const Tensor y = tensor(labels);
  auto gradients = [&](bool micro) {
    manual_seed(1);
    auto model = small_model();
    DistributedDataParallel ddp(model, world());
    if (!micro) {
      ddp.prepare_for_backward(k * b);
      cross_entropy((*model)(x), y).backward();
    } else {
      {
        auto no_sync = ddp.no_sync();
        EXPECT_THROW(ddp.synchronize_gradients(k * b), Error);
        EXPECT_THROW(ddp.prepare_for_backward(k * b), Error);
        for (int i = 0; i + 1 < k; ++i) {
          (cross_entropy((*model)(x.narrow(0, i * b, b)), y.narrow(0, i * b, b)) / k).backward();
        }
      }
      ddp.prepare_for_backward(k * b);  // the last micro-batch's backward synchronizes the sum
      (cross_entropy((*model)(x.narrow(0, (k - 1) * b, b)), y.narrow(0, (k - 1) * b, b)) / k).backward();
    }
    ddp.synchronize_gradients(k * b);
    std::vector<Tensor> grads;
    for (const Tensor& p : model->parameters()) grads.push_back(p.grad());
    return grads;
  };
  const auto one = gradients(false), accumulated = gradients(true);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_LT(max(abs(sub(one[i], accumulated[i]))).item(), 1e-6) << "parameter " << i;
  }
}

TEST(DataParallel, MisuseIsRefused) {
  auto model = small_model();
  DistributedDataParallel ddp(model, world());
  ddp.prepare_for_backward(1);
  EXPECT_THROW(ddp.prepare_for_backward(1), Error);
  EXPECT_THROW(ddp.synchronize_gradients(2), Error);  // not the prepared count
  ddp.synchronize_gradients(1);                       // zero gradients, one example per rank
  EXPECT_THROW(ddp.prepare_for_backward(-1), Error);
}

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DataParallel, RanksThatDifferAreRefusedOnEveryRankNamingTheDifference) {
  const bool odd = world().rank() % 2 == 1;
  const std::string settings = error_text([&] {
    DistributedDataParallel ddp(small_model(), world(), {.config = odd ? "batch_size=100" : "batch_size=50"});
  });
  if (odd) {
    EXPECT_NE(settings.find("here 'config batch_size=100', on rank 0 'config batch_size=50'"), std::string::npos)
        << settings;
  } else {
    EXPECT_NE(settings.find("rank(s) 1"), std::string::npos) << settings;
  }
  const std::string model = error_text([&] {
    auto m = std::make_shared<nn::Sequential>(
        std::initializer_list<std::shared_ptr<nn::Module>>{std::make_shared<nn::Linear>(3, odd ? 5 : 4)});
    DistributedDataParallel ddp(m, world());
  });
  if (odd) {
    EXPECT_NE(model.find("parameter 0.weight float32 [5,3]"), std::string::npos) << model;
  }
  EXPECT_NE(model.find("differs from rank 0"), std::string::npos) << model;
  // Agreeing ranks still work afterwards.
  EXPECT_EQ(error_text([&] { DistributedDataParallel ddp(small_model(), world(), {.config = "same"}); }), "");
}

TEST(ProcessGroup, ACollectiveGivesUpAfterTheTimeoutNamingItself) {
  world().set_timeout_seconds(0.3);
  if (world().rank() == 0) {
    const std::string e = error_text([] { world().barrier(); });
    EXPECT_NE(e.find("barrier: rank 0 of"), std::string::npos) << e;
    EXPECT_NE(e.find("waited 0.3 s for the other ranks"), std::string::npos) << e;
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // late; rank 0's request still matches it
    world().barrier();
  }
  world().set_timeout_seconds(60);
  EXPECT_THROW(world().set_timeout_seconds(0), Error);
  world().barrier();
}

}  // namespace
}  // namespace tg::distributed

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tg::distributed::ProcessGroup::world();  // MPI_Init before any test
  return RUN_ALL_TESTS();  // mpirun fails if any rank fails
}
