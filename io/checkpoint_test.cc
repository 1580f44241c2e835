// tapegrad/io/checkpoint_test.cc: resuming reproduces a straight run bit for bit; a writer killed
// mid-save leaves a loadable file; mismatched checkpoints are refused without side effects.
#include "io/checkpoint.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"
#include "io/data_loader.h"
#include "io/files.h"
#include "io/model_file.h"
#include "ops/elementwise.h"
#include "nn/nn.h"
#include "optim/optim.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;

std::string tmp(const std::string& name) { return testing::tmp_path(name); }

std::shared_ptr<nn::Sequential> make_model() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(8, 32), std::make_shared<nn::ReLU>(), std::make_shared<nn::Dropout>(0.2),
      std::make_shared<nn::BatchNorm1d>(32), std::make_shared<nn::Linear>(32, 3)});
}

struct TrainingRun {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;
  TrainingRun(uint64_t init_seed) {
    manual_seed(init_seed);
    model = make_model();
    optimizer = std::make_unique<optim::Adam>(model->parameters(), 0.01);
    // A half-lr warm-up epoch, then halving every epoch: resuming must restore both parts.
    scheduler = std::make_unique<optim::SequentialLR>(
        *optimizer,
        std::vector<std::shared_ptr<optim::LRScheduler>>{std::make_shared<optim::LinearLR>(*optimizer, 1, 0.5),
                                                         std::make_shared<optim::StepLR>(*optimizer, 1, 0.5)},
        std::vector<int64_t>{1});
  }
  TrainingState state() { return {model.get(), optimizer.get(), scheduler.get()}; }
};

DataLoader make_loader() {
  ops::Generator g(99);
  Tensor x(ops::normal({96, 8}, 0, 1, kFloat32, g));
  Tensor y(ops::Array::from_vector<int64_t>(std::vector<int64_t>(96, 0), {96}));
  for (int64_t i = 0; i < 96; ++i) y.data_ptr<int64_t>()[i] = i % 3;
  return DataLoader(TensorDataset(x, y), {.batch_size = 16, .seed = 3});
}

std::vector<double> train_epoch(TrainingRun& run, const DataLoader& loader, int64_t epoch) {
  std::vector<double> losses;
  auto e = loader.epoch(epoch);
  for (Batch b; e->next(&b);) {
    run.optimizer->zero_grad();
    Tensor loss = cross_entropy((*run.model)(b.inputs), b.targets);
    loss.backward();
    run.optimizer->step();
    losses.push_back(loss.item());
  }
  run.scheduler->step();
  return losses;
}

TEST(Checkpoint, ResumeReproducesAStraightRunBitForBit) {
  // Bit-for-bit repeatable training needs a fixed thread count: an adaptive team may change size
  // with the machine's load between the runs (Note [Sharing the cores] in ops/parallel.h).
  set_num_threads(2);
  const DataLoader loader = make_loader();
  std::vector<double> straight;
  TrainingRun a(1);
  for (int64_t e = 0; e < 3; ++e) {
    auto l = train_epoch(a, loader, e);
    straight.insert(straight.end(), l.begin(), l.end());
  }

  std::vector<double> resumed;
  std::map<std::string, double> b_scheduler_state;
  {
    TrainingRun b(1);
    auto l = train_epoch(b, loader, 0);
    resumed.insert(resumed.end(), l.begin(), l.end());
    TrainingState s = b.state();
    s.epoch = 1;
    s.step = 6;
    b_scheduler_state = b.scheduler->state_dict();
    ASSERT_TRUE(save_checkpoint(tmp("run.ckpt"), s).ok());
  }
  manual_seed(12345);  // disturb the generator: the checkpoint must restore it
  TrainingRun c(7);            // fresh objects with a different initialization
  TrainingState s = c.state();
  absl::Status st = load_checkpoint(tmp("run.ckpt"), &s);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(s.epoch, 1);
  EXPECT_EQ(s.step, 6);
  EXPECT_DOUBLE_EQ(c.optimizer->param_groups()[0].lr, 0.01);  // a fresh run is at 0.005
  EXPECT_EQ(c.scheduler->state_dict(), b_scheduler_state);
  for (int64_t e = s.epoch; e < 3; ++e) {
    auto l = train_epoch(c, loader, e);
    resumed.insert(resumed.end(), l.begin(), l.end());
  }
  EXPECT_EQ(straight, resumed);
  for (auto& [name, t] : a.model->state_dict()) {
    EXPECT_EQ(t.to_vector<double>(), c.model->state_dict().at(name).to_vector<double>()) << name;
  }
}

// An optimizer whose state holds a per-parameter scalar (NAdam's mu_product) resumes exactly.
TEST(Checkpoint, NAdamStateWithAScalarBufferResumes) {
  set_num_threads(2);  // bit-for-bit comparisons need a fixed team (Note [Sharing the cores])
  auto run = [](nn::Module& model, optim::Optimizer& opt, const Tensor& x, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(model(x) * model(x)).backward();
      opt.step();
    }
  };
  const Tensor x = randn({4, 8});
  manual_seed(5);
  auto straight = make_model();
  straight->eval();
  optim::NAdam straight_opt(straight->parameters(), 0.01);
  run(*straight, straight_opt, x, 6);

  manual_seed(5);
  auto first = make_model();
  first->eval();
  optim::NAdam first_opt(first->parameters(), 0.01);
  run(*first, first_opt, x, 3);
  TrainingState saved{first.get(), &first_opt};
  ASSERT_TRUE(save_checkpoint(tmp("nadam.ckpt"), saved).ok());
  manual_seed(6);
  auto resumed = make_model();
  resumed->eval();
  optim::NAdam resumed_opt(resumed->parameters(), 0.01);
  TrainingState loaded{resumed.get(), &resumed_opt};
  const absl::Status st = load_checkpoint(tmp("nadam.ckpt"), &loaded);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(resumed_opt.state()[0].buffers.at("mu_product").dim(), 0);
  run(*resumed, resumed_opt, x, 3);
  for (auto& [name, t] : straight->state_dict()) {
    EXPECT_EQ(t.to_vector<double>(), resumed->state_dict().at(name).to_vector<double>()) << name;
  }
}

// L-BFGS keeps its history as float64 pieces of float32 parameters' shapes: the checkpoint
// accepts them and the search resumes exactly.
TEST(Checkpoint, LbfgsStateOfFloat32ParametersResumes) {
  ops::Generator g(5);
  const Tensor x(ops::normal({16, 8}, 0, 1, kFloat32, g)), y(ops::normal({16, 3}, 0, 1, kFloat32, g));
  auto make = [] {
    manual_seed(3);
    return std::make_shared<nn::Linear>(8, 3);
  };
  const optim::LBFGSOptions options{.max_iter = 4, .history_size = 3, .line_search_fn = "strong_wolfe"};
  auto train_step = [&](nn::Linear& model, optim::LBFGS& opt) {
    return opt
        .step([&] {
          opt.zero_grad();
          Tensor loss = mse_loss(model(x), y);
          loss.backward();
          return loss;
        })
        .item();
  };
  auto straight = make();
  optim::LBFGS a(straight->parameters(), 1, options);
  const std::vector<double> want = {train_step(*straight, a), train_step(*straight, a), train_step(*straight, a)};

  std::vector<double> got;
  {
    auto first = make();
    optim::LBFGS b(first->parameters(), 1, options);
    got.push_back(train_step(*first, b));
    ASSERT_TRUE(save_checkpoint(tmp("lbfgs.ckpt"), {first.get(), &b}).ok());
  }
  auto second = std::make_shared<nn::Linear>(8, 3);
  optim::LBFGS c(second->parameters(), 1, options);
  TrainingState s{second.get(), &c};
  absl::Status st = load_checkpoint(tmp("lbfgs.ckpt"), &s);
  ASSERT_TRUE(st.ok()) << st;
  got.push_back(train_step(*second, c));
  got.push_back(train_step(*second, c));
  EXPECT_EQ(got, want);
  EXPECT_EQ(straight->weight.to_vector<float>(), second->weight.to_vector<float>());
}

TEST(Checkpoint, PerEpochMetricsAreStructuredFieldsAndValidated) {
  TrainingRun a(1);
  TrainingState s = a.state();
  s.epoch = 2;
  s.history = {{1, {{"train_loss", 0.25}, {"test_accuracy", 0.9}}}, {2, {{"train_loss", 0.125}, {"seconds", 3.5}}}};
  ASSERT_TRUE(save_checkpoint(tmp("history.ckpt"), s).ok());
  TrainingRun b(2);
  TrainingState loaded = b.state();
  ASSERT_TRUE(load_checkpoint(tmp("history.ckpt"), &loaded).ok());
  EXPECT_EQ(loaded.history, s.history);
  // Epochs out of order, or past the checkpoint's own epoch, are refused by name.
  for (const std::vector<EpochRecord>& bad : {std::vector<EpochRecord>{{2, {}}, {1, {}}},
                                             std::vector<EpochRecord>{{3, {}}}}) {
    s.history = bad;
    ASSERT_TRUE(save_checkpoint(tmp("bad_history.ckpt"), s).ok());
    TrainingState r = b.state();
    EXPECT_THAT(std::string(load_checkpoint(tmp("bad_history.ckpt"), &r).message()),
                HasSubstr("].epoch")) << bad.size();
    EXPECT_TRUE(r.history.empty());
  }
}

TEST(Checkpoint, MetadataReadsAloneAndNamesABadFile) {
  TrainingRun a(1);
  TrainingState s = a.state();
  s.metadata = {{"hidden", "128"}, {"arch", "cnn_small"}};
  ASSERT_TRUE(save_checkpoint(tmp("meta.ckpt"), s).ok());
  auto metadata = read_checkpoint_metadata(tmp("meta.ckpt"));
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_EQ(*metadata, s.metadata);
  ASSERT_TRUE(io::write_file_atomically(tmp("junk.ckpt"), "not a checkpoint \xff\xff").ok());
  EXPECT_THAT(std::string(read_checkpoint_metadata(tmp("junk.ckpt")).status().message()), HasSubstr("junk.ckpt"));
  EXPECT_FALSE(read_checkpoint_metadata(tmp("missing.ckpt")).ok());
}

TEST(Checkpoint, MismatchesAreRefusedAndChangeNothing) {
  TrainingRun a(1);
  ASSERT_TRUE(save_checkpoint(tmp("a.ckpt"), a.state()).ok());
  // A different optimizer.
  TrainingRun b(2);
  optim::SGD sgd(b.model->parameters(), 0.1);
  TrainingState s{b.model.get(), &sgd, nullptr};
  const auto before = b.model->state_dict().at("0.weight").to_vector<float>();
  absl::Status st = load_checkpoint(tmp("a.ckpt"), &s);
  EXPECT_THAT(std::string(st.message()), HasSubstr("holds 'Adam' state, the run uses SGD"));
  EXPECT_EQ(b.model->state_dict().at("0.weight").to_vector<float>(), before);
  // A different scheduler: named, and nothing restored.
  optim::StepLR step_lr(*b.optimizer, 1, 0.5);
  TrainingState t{b.model.get(), b.optimizer.get(), &step_lr};
  const double lr_before = b.optimizer->param_groups()[0].lr;
  st = load_checkpoint(tmp("a.ckpt"), &t);
  EXPECT_THAT(std::string(st.message()), HasSubstr("scheduler_state: StepLR: the saved scheduler state has an unknown entry '0.last_lr.0'"));
  EXPECT_EQ(b.model->state_dict().at("0.weight").to_vector<float>(), before);
  EXPECT_EQ(b.optimizer->param_groups()[0].lr, lr_before);
  // A different model.
  auto other = std::make_shared<nn::Linear>(8, 3);
  TrainingState o{other.get()};
  EXPECT_THAT(std::string(load_checkpoint(tmp("a.ckpt"), &o).message()), HasSubstr("unexpected key"));
  // A model file where a checkpoint is expected.
  a.model->eval();
  ASSERT_TRUE(save_model(*a.model, zeros({2, 8}), tmp("a.tgm")).ok());
  TrainingState m = a.state();
  EXPECT_THAT(std::string(load_checkpoint(tmp("a.tgm"), &m).message()),
              HasSubstr("is a 'model' file, expected a 'checkpoint' file"));
}

TEST(Checkpoint, WriterKilledMidSaveLeavesALoadableFile) {
  // A model large enough (16 MB) that a save takes a while.
  manual_seed(3);
  auto big = std::make_shared<nn::Linear>(2048, 2048);
  const std::string path = tmp("big.ckpt");
  ASSERT_TRUE(save_checkpoint(path, {big.get()}).ok());
  for (int delay_ms : {5, 20, 50}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (;;) (void)save_checkpoint(path, {big.get()});  // until killed
    }
    usleep(delay_ms * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    auto check = std::make_shared<nn::Linear>(2048, 2048);
    TrainingState s{check.get()};
    absl::Status st = load_checkpoint(path, &s);
    ASSERT_TRUE(st.ok()) << "after killing the writer at " << delay_ms << " ms: " << st;
    EXPECT_EQ(check->weight.to_vector<float>(), big->weight.to_vector<float>());
  }
}

}  // namespace
}  // namespace tg::io
