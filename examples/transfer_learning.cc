// tapegrad/examples/transfer_learning.cc: transfer learning from an ONNX model (the counterpart of
// LibTorch's cpp/transfer-learning, on ONNX import). A classifier trained elsewhere (any ONNX file
// taking [N, 1, 28, 28] images) is cut before its last Gemm/MatMul, its weights are frozen, and a
// new linear head learns Fashion-MNIST's 10 classes from its features; --finetune trains the
// backbone too, at a tenth of the head's learning rate.
//   bazel run -c opt //examples:mnist_cnn -- --epochs=1 --save=/tmp/mnist.tgm     # or a PyTorch export
//   bazel-bin/tools/cli/tapegrad export-onnx /tmp/mnist.tgm /tmp/mnist.onnx
//   bazel run -c opt //examples:transfer_learning -- --backbone=/tmp/mnist.onnx --save=/tmp/fashion.tgm
// Prints one line per epoch: epoch, train_loss, test_accuracy, seconds; then the frozen check.
#include <chrono>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "autograd/tapegrad.h"
#include "examples/epoch_log.h"
#include "io/data_loader.h"
#include "io/evaluate.h"
#include "io/files.h"
#include "io/mnist.h"
#include "io/model_file.h"
#include "io/onnx_import.h"
#include "nn/nn.h"
#include "optim/optim.h"

ABSL_FLAG(std::string, backbone, "", "the ONNX model to transfer from (input [N, 1, 28, 28])");
ABSL_FLAG(std::string, features, "", "the value to cut at (default: the input of the last Gemm/MatMul)");
ABSL_FLAG(std::string, data_dir, "/usr/share/datasets/fashion-mnist", "Fashion-MNIST IDX files (.gz)");
ABSL_FLAG(int, epochs, 2, "passes over the training set");
ABSL_FLAG(int64_t, train_limit, 0, "train on the first N images only (0: all 60,000)");
ABSL_FLAG(int64_t, batch_size, 64, "images per step");
ABSL_FLAG(double, lr, 3e-3, "Adam learning rate of the head");
ABSL_FLAG(bool, finetune, false, "train the backbone too, from the start (at lr / 10): --unfreeze_after=0");
ABSL_FLAG(int, unfreeze_after, -1,
          "train the head alone for N epochs, then the backbone too (at lr / 10, batch norm in training mode); "
          "-1: never");
ABSL_FLAG(std::string, save, "", "write the backbone with its new head as a .tgm");
ABSL_FLAG(uint64_t, seed, 0, "seed of the head's initialization and the batch order");
// --checkpoint, --resume, --metrics_csv and --plot: examples/epoch_log.h.

namespace {

using namespace tg;

constexpr double kFashionMean = 0.2860, kFashionStd = 0.3530;

// The input of the last Gemm or MatMul: the features the original classifier read.
std::string classifier_input(const std::string& path) {
  auto bytes = io::read_file(path);
  onnx::ModelProto model;
  if (!bytes.ok() || !model.ParseFromString(*bytes)) return "";
  std::string features;
  for (const auto& n : model.graph().node())
    if (n.op_type() == "Gemm" || n.op_type() == "MatMul") features = n.input(0);
  return features;
}

// The backbone and the head as one module (what --save traces).
class TransferModel : public nn::Module {
 public:
  TransferModel(std::shared_ptr<io::OnnxModule> backbone, int64_t features, int64_t classes)
      : Module("TransferModel") {
    backbone_ = register_module("backbone", std::move(backbone));
    head_ = register_module("head", std::make_shared<nn::Linear>(features, classes));
  }
  Tensor forward(const Tensor& x) override { return (*head_)(flatten((*backbone_)(x), 1)); }
  std::shared_ptr<io::OnnxModule> backbone_;
  std::shared_ptr<nn::Linear> head_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("transfer_learning --backbone=MODEL.onnx [--finetune] [--save=OUT.tgm]");
  absl::ParseCommandLine(argc, argv);
  const std::string path = absl::GetFlag(FLAGS_backbone);
  if (path.empty()) {
    std::fprintf(stderr, "transfer_learning: --backbone=MODEL.onnx is required\n");
    return 2;
  }
  // Set-up: the backbone cut at its features, frozen unless fine-tuning.
  io::OnnxImportOptions cut;
  const std::string features = absl::GetFlag(FLAGS_features).empty() ? classifier_input(path) : absl::GetFlag(FLAGS_features);
  if (features.empty()) {
    std::fprintf(stderr, "transfer_learning: %s has no Gemm/MatMul to cut before; give --features=VALUE\n", path.c_str());
    return 1;
  }
  cut.outputs = {features};
  const int unfreeze_after = absl::GetFlag(FLAGS_finetune) ? 0 : absl::GetFlag(FLAGS_unfreeze_after);
  TG_CHECK(unfreeze_after >= -1, "--unfreeze_after=", unfreeze_after, ": expected -1 (never) or a number of epochs");
  const bool ever_unfrozen = unfreeze_after >= 0;
  cut.freeze_all = !ever_unfrozen;  // never unfrozen: constants, folded at load
  auto backbone = io::load_onnx(path, cut);
  if (!backbone.ok()) {
    std::fprintf(stderr, "transfer_learning: %s\n", std::string(backbone.status().message()).c_str());
    return 1;
  }
  auto train = io::load_mnist(absl::GetFlag(FLAGS_data_dir), /*train=*/true);
  auto test = io::load_mnist(absl::GetFlag(FLAGS_data_dir), /*train=*/false);
  if (!train.ok() || !test.ok()) {
    std::fprintf(stderr, "transfer_learning: %s\n",
                 std::string((train.ok() ? test.status() : train.status()).message()).c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_train_limit) > 0) *train = io::first_examples(*train, absl::GetFlag(FLAGS_train_limit));
  manual_seed(absl::GetFlag(FLAGS_seed));
  const io::Transform norm = io::normalize(kFashionMean, kFashionStd);
  io::DataLoader train_loader(io::TensorDataset(train->images, train->labels),
                              {.batch_size = absl::GetFlag(FLAGS_batch_size), .seed = absl::GetFlag(FLAGS_seed)}, norm);
  io::DataLoader test_loader(io::TensorDataset(test->images, test->labels), {.batch_size = 1000, .shuffle = false},
                             norm);
  int64_t feature_size;
  {
    NoGradGuard no_grad;
    backbone->module->eval();
    feature_size = flatten(backbone->module->forward(norm({narrow(train->images, 0, 0, 1), Tensor()}).inputs), 1).size(1);
  }
  auto model = std::make_shared<TransferModel>(backbone->module, feature_size, 10);
  std::printf("backbone %s cut at '%s': %lld features, %s\n", path.c_str(), features.c_str(),
              static_cast<long long>(feature_size),
              !ever_unfrozen        ? "frozen"
              : unfreeze_after == 0 ? "fine-tuned"
                                    : absl::StrCat("frozen for ", unfreeze_after, " epochs, then fine-tuned").c_str());
  const double lr = absl::GetFlag(FLAGS_lr);
  optim::Adam optimizer({{model->head_->parameters(), lr}});
  // A backbone that will be unfrozen is in the optimizer from the start, at lr / 10: while its
  // parameters take no gradients Adam leaves them alone (as PyTorch's add_param_group at the
  // unfreezing would), and the optimizer has one shape for the whole run, which a checkpoint of
  // any epoch restores into.
  if (ever_unfrozen) optimizer.add_param_group({model->backbone_->parameters(), lr / 10});
  auto set_trainable = [&](bool trainable) {
    for (Tensor& p : model->backbone_->parameters()) p.set_requires_grad(trainable);
  };
  examples::EpochLog log("transfer_learning", "Transfer from " + path + " to Fashion-MNIST");
  const io::TrainingState state{model.get(), &optimizer, nullptr, 0, 0,
                                {{"backbone", path}, {"features", features},
                                 {"unfreeze_after", std::to_string(unfreeze_after)}}};
  const int first_epoch = log.resume(state);
  // The frozen backbone must come out as it went in: its constants are compared at the end.
  std::vector<Tensor> before;
  for (const auto& [name, b] : model->backbone_->named_buffers()) before.push_back(b.clone());

  for (int epoch = first_epoch; epoch <= absl::GetFlag(FLAGS_epochs); ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const bool frozen = !ever_unfrozen || epoch <= unfreeze_after;
    set_trainable(!frozen);
    if (unfreeze_after > 0 && epoch == unfreeze_after + 1) std::printf("epoch %d: backbone unfrozen\n", epoch);
    model->train();
    if (frozen) model->backbone_->eval();  // frozen: batch norm keeps its statistics
    double loss_sum = 0;
    int64_t seen = 0;
    auto batches = train_loader.epoch(epoch - 1);
    for (io::Batch b; batches->next(&b);) {
      optimizer.zero_grad();
      Tensor loss = cross_entropy((*model)(b.inputs), b.targets);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item() * b.targets.numel();
      seen += b.targets.numel();
    }
    model->eval();
    const double accuracy = io::classification_accuracy(*model, test_loader);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d train_loss %.4f test_accuracy %.4f seconds %.1f\n", epoch, loss_sum / seen, accuracy, seconds);
    std::fflush(stdout);
    log.record({epoch, loss_sum / seen, accuracy, seconds}, state);
  }
  bool unchanged = true;
  size_t i = 0;
  for (const auto& [name, b] : model->backbone_->named_buffers()) unchanged = unchanged && equal(b, before[i++]);
  if (!ever_unfrozen) std::printf("backbone statistics unchanged: %s\n", unchanged ? "yes" : "no");
  if (!absl::GetFlag(FLAGS_save).empty()) {
    const absl::Status s = io::save_model(*model, norm({narrow(test->images, 0, 0, 1), Tensor()}).inputs,
                                          absl::GetFlag(FLAGS_save), {{"input_mean", "0.2860"}, {"input_std", "0.3530"}});
    if (!s.ok()) {
      std::fprintf(stderr, "transfer_learning: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("saved %s\n", absl::GetFlag(FLAGS_save).c_str());
  }
  return unchanged || ever_unfrozen ? 0 : 1;
}
