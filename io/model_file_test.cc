// tapegrad/io/model_file_test.cc: models survive save/load bit for bit with no C++ class of the
// original, run at any batch size, keep train/eval behaviour, fine-tune; files are deterministic;
// bad files give a Status naming the file and field, never a crash.
#include "io/model_file.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "autograd/op_table.h"
#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"
#include "io/file_io.h"
#include "io/proto/tapegrad.pb.h"
#include "io/trace.h"
#include "nn/nn.h"
#include "optim/sgd.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;

std::string tmp(const std::string& name) { return testing::tmp_path(name); }

std::shared_ptr<nn::Sequential> make_cnn() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 4, 3).padding(1)), std::make_shared<nn::BatchNorm2d>(4),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Dropout>(0.5), std::make_shared<nn::Linear>(4 * 4 * 4, 10)});
}

std::string slurp(const std::string& path) { return *read_file(path); }

TEST(ModelFile, RoundTripIsBitIdenticalAtAnyBatchSize) {
  manual_seed(0);
  auto model = make_cnn();
  model->eval();
  ASSERT_TRUE(save_model(*model, randn({2, 1, 8, 8}), tmp("m.tgm"), {{"arch", "test"}}).ok());
  auto loaded = load_model(tmp("m.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->metadata.at("arch"), "test");
  EXPECT_FALSE(loaded->module->is_training());
  for (int64_t batch : {1, 2, 7}) {
    Tensor x = randn({batch, 1, 8, 8});
    EXPECT_EQ((*model)(x).to_vector<float>(), (*loaded->module)(x).to_vector<float>()) << "batch " << batch;
  }
  // Same names as the original: the state dicts line up.
  std::vector<std::string> a, b;
  for (auto& [n, t] : model->named_parameters()) a.push_back(n);
  for (auto& [n, t] : loaded->module->named_parameters()) b.push_back(n);
  EXPECT_EQ(a, b);
  EXPECT_EQ(loaded->module->named_buffers().size(), model->named_buffers().size());
}

// A model that moves its input to channels last (Note [Channels last] in ops/array.cc): the
// loaded graph keeps the format (its output is channels last) and the values.
class ChannelsLastConv : public nn::Module {
 public:
  ChannelsLastConv() : Module("ChannelsLastConv") {
    conv_ = register_module("conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 8, 3).padding(1)));
  }
  Tensor forward(const Tensor& x) override { return relu((*conv_)(x.contiguous(MemoryFormat::ChannelsLast))); }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
};

TEST(ModelFile, ChannelsLastSurvives) {
  manual_seed(0);
  ChannelsLastConv model;
  ASSERT_TRUE(save_model(model, randn({2, 3, 6, 6}), tmp("last.tgm")).ok());
  auto loaded = load_model(tmp("last.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Tensor x = randn({3, 3, 6, 6});
  const Tensor want = model(x), got = (*loaded->module)(x);
  EXPECT_EQ(want.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(got.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(got.to_vector<float>(), want.to_vector<float>());
}

// A token model: int64 [N, T] -> Embedding -> LayerNorm -> Linear -> [N, T, vocabulary].
TEST(ModelFile, TokenModelRoundTripsAtAnyBatchAndSequenceLength) {
  manual_seed(4);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Embedding>(nn::EmbeddingOptions{11, 6, /*padding_idx=*/0}),
      std::make_shared<nn::LayerNorm>(6), std::make_shared<nn::Linear>(6, 11)});
  auto tokens = [](int64_t n, int64_t t) { return randint(0, 11, {n, t}); };
  ASSERT_TRUE(save_model(*model, tokens(2, 5), tmp("tok.tgm")).ok());
  auto loaded = load_model(tmp("tok.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->module->input_shape(), (Shape{-1, -1}));  // Note [Symbolic dims]
  EXPECT_EQ(loaded->module->example_shape(), (Shape{2, 5}));
  for (auto [n, t] : {std::pair<int64_t, int64_t>{1, 5}, {3, 5}, {2, 9}}) {
    const Tensor x = tokens(n, t);
    EXPECT_EQ((*model)(x).to_vector<float>(), (*loaded->module)(x).to_vector<float>()) << n << "x" << t;
  }
  // Trains on with the original's gradients (the padding row included: none).
  const Tensor x = tokens(4, 5), y = randint(0, 11, {20});
  cross_entropy(reshape((*model)(x), {20, 11}), y).backward();
  cross_entropy(reshape((*loaded->module)(x), {20, 11}), y).backward();
  auto orig = model->named_parameters(), mine = loaded->module->named_parameters();
  ASSERT_EQ(orig.size(), mine.size());
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(orig[i].second.grad().to_vector<float>(), mine[i].second.grad().to_vector<float>()) << orig[i].first;
  }
  EXPECT_EQ(narrow(mine[0].second.grad(), 0, 0, 1).to_vector<float>(), std::vector<float>(6, 0.0f));
}

// A transformer encoder stack (attention rows, layer norms, GELU) reloads without its class and
// trains on with the original's gradients.
TEST(ModelFile, TransformerEncoderRoundTripsAndTrainsOn) {
  manual_seed(9);
  nn::TransformerEncoder encoder(nn::TransformerEncoderOptions{{8, 2, 16, 0.0, "gelu", 1e-5, true, true}, 2, true});
  const Tensor x = randn({2, 5, 8});
  ASSERT_TRUE(save_model(encoder, x, tmp("encoder.tgm")).ok());
  auto loaded = load_model(tmp("encoder.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->module->input_shape(), (Shape{-1, -1, 8}));  // no mask: any length
  for (const Tensor& in : {x, randn({3, 7, 8})}) {
    EXPECT_EQ(encoder(in).to_vector<float>(), (*loaded->module)(in).to_vector<float>());
  }
  sum(encoder(x) * x).backward();
  sum((*loaded->module)(x) * x).backward();
  auto orig = encoder.named_parameters(), mine = loaded->module->named_parameters();
  ASSERT_EQ(orig.size(), mine.size());
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(orig[i].first, mine[i].first);
    EXPECT_EQ(orig[i].second.grad().to_vector<float>(), mine[i].second.grad().to_vector<float>()) << orig[i].first;
  }
}

// A DCGAN-style generator (transposed convolutions with output_padding, batch norm, tanh)
// reloads at any batch size with the same outputs and gradients.
TEST(ModelFile, ConvTransposeGeneratorRoundTripsAndTrainsOn) {
  manual_seed(11);
  nn::Sequential generator({std::make_shared<nn::ConvTranspose2d>(nn::ConvTranspose2dOptions(6, 4, 3).bias(false)),
                            std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>(),
                            std::make_shared<nn::ConvTranspose2d>(nn::ConvTranspose2dOptions(4, 1, 3).stride(2).padding(1).output_padding(1)),
                            std::make_shared<nn::Tanh>()});
  const Tensor z = randn({2, 6, 2, 2});
  // Saving in training mode runs the forward, which must not move the statistics or the stream.
  const std::vector<float> stats_before = generator.named_buffers()[0].second.to_vector<float>();
  const double next_random = [] {
    const ops::Generator::State s = ops::default_generator().state();
    const double v = rand({1}).item();
    ops::default_generator().set_state(s);
    return v;
  }();
  ASSERT_TRUE(save_model(generator, z, tmp("generator.tgm")).ok());
  EXPECT_EQ(generator.named_buffers()[0].second.to_vector<float>(), stats_before);
  EXPECT_EQ(rand({1}).item(), next_random);
  auto loaded = load_model(tmp("generator.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  generator.eval();
  loaded->module->eval();
  const Tensor z3 = randn({3, 6, 2, 2});
  EXPECT_EQ((*loaded->module)(z3).shape(), (Shape{3, 1, 8, 8}));
  EXPECT_EQ(generator(z3).to_vector<float>(), (*loaded->module)(z3).to_vector<float>());
  generator.train();
  loaded->module->train();
  sum(generator(z) * 2.0).backward();
  sum((*loaded->module)(z) * 2.0).backward();
  auto orig = generator.named_parameters(), mine = loaded->module->named_parameters();
  ASSERT_EQ(orig.size(), mine.size());
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(orig[i].first, mine[i].first);
    EXPECT_EQ(orig[i].second.grad().to_vector<float>(), mine[i].second.grad().to_vector<float>()) << orig[i].first;
  }
}

// An LSTM classifier (the mnist_rnn shape: rows as time steps) reloads at any batch size; the
// unrolled steps fix the length.
TEST(ModelFile, LstmClassifierRoundTripsAtAnyBatch) {
  manual_seed(10);
  struct RowLstm : nn::Module {
    RowLstm() : Module("RowLstm") {
      lstm = register_module("lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions{.input_size = 6, .hidden_size = 5,
                                                                                .num_layers = 2, .batch_first = true}));
      fc = register_module("fc", std::make_shared<nn::Linear>(5, 3));
    }
    Tensor forward(const Tensor& x) override { return (*fc)(select((*lstm)(x), 1, -1)); }
    std::shared_ptr<nn::LSTM> lstm;
    std::shared_ptr<nn::Linear> fc;
  } model;
  ASSERT_TRUE(save_model(model, randn({2, 4, 6}), tmp("lstm.tgm")).ok());
  auto loaded = load_model(tmp("lstm.tgm"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->module->input_shape(), (Shape{-1, 4, 6}));
  for (int64_t batch : {1, 5}) {
    const Tensor x = randn({batch, 4, 6});
    EXPECT_EQ(model(x).to_vector<float>(), (*loaded->module)(x).to_vector<float>()) << batch;
  }
}

// Dims the graph depends on stay fixed: the CNN's Linear fixes channels and spatial size, a mask
// built at the traced length fixes the length; tracing leaves batch-norm statistics alone.
TEST(ModelFile, OnlyDimsTheGraphDoesNotDependOnAreSymbolic) {
  manual_seed(6);
  auto cnn = make_cnn();
  manual_seed(6);
  auto twin = make_cnn();
  cnn->train();
  twin->train();
  const Tensor x = randn({2, 1, 8, 8});
  manual_seed(7);
  auto graph = trace(*cnn, x);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const float after_trace = randn({1}).item<float>();
  EXPECT_EQ(std::vector<int64_t>(graph->inputs(0).shape().begin(), graph->inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 1, 8, 8}));
  // Neither the trace's forward nor the probes changed the statistics or the generator: the
  // model is as its untraced twin, the stream as if nothing had drawn from it.
  manual_seed(7);
  EXPECT_EQ(randn({1}).item<float>(), after_trace);
  EXPECT_EQ(cnn->state_dict().at("1.running_mean").to_vector<float>(), twin->state_dict().at("1.running_mean").to_vector<float>());
  EXPECT_EQ(cnn->state_dict().at("1.running_var").to_vector<float>(), twin->state_dict().at("1.running_var").to_vector<float>());
  struct CausalMask : nn::Module {
    CausalMask() : Module("CausalMask") {}
    Tensor forward(const Tensor& x) override { return x * tril(ones({x.size(1), x.size(1)})); }
  } masked;
  auto fixed = trace(masked, randn({2, 4, 4}));
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(std::vector<int64_t>(fixed->inputs(0).shape().begin(), fixed->inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 4, 4}));
  // Note [Constant folding]: ones and tril on constants are not recorded; the mask is one constant.
  ASSERT_EQ(fixed->nodes_size(), 1);
  EXPECT_EQ(fixed->nodes(0).op(), "mul");
  EXPECT_EQ(fixed->constants_size(), 1);
  struct RowSoftmax : nn::Module {
    RowSoftmax() : Module("RowSoftmax") {}
    Tensor forward(const Tensor& x) override { return softmax(x, -1) * 2.0; }
  } free;
  auto symbolic = trace(free, randn({2, 4, 3}));
  ASSERT_TRUE(symbolic.ok());
  EXPECT_EQ(std::vector<int64_t>(symbolic->inputs(0).shape().begin(), symbolic->inputs(0).shape().end()),
            (std::vector<int64_t>{-1, -1, -1}));
  EXPECT_EQ(std::vector<int64_t>(symbolic->outputs(0).shape().begin(), symbolic->outputs(0).shape().end()),
            (std::vector<int64_t>{-1, -1, -1}));
}

// A graph that records its batch (a reshape to the literal batch) runs at other batches but
// would compute something else there: the file fixes the batch and a load refuses another one.
TEST(ModelFile, AGraphThatRecordsItsBatchFixesIt) {
  struct LiteralBatch : nn::Module {
    LiteralBatch() : Module("LiteralBatch") {}
    Tensor forward(const Tensor& x) override { return reshape(x, {x.size(0), 2, -1}) * 2.0; }
  } literal;
  auto fixed = trace(literal, randn({3, 4}));
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->inputs(0).shape(0), 3);
  EXPECT_EQ(fixed->outputs(0).shape(0), 3);
  const std::string path = testing::tmp_path("literal_batch.tgm");
  ASSERT_TRUE(save_model(literal, randn({3, 4}), path).ok());
  auto loaded = load_model(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Tensor x = randn({3, 4});
  EXPECT_TRUE(equal(loaded->module->forward(x), literal.forward(x)));
  EXPECT_THROW(loaded->module->forward(randn({6, 4})), Error);
  struct BatchFree : nn::Module {
    BatchFree() : Module("BatchFree") {}
    Tensor forward(const Tensor& x) override { return reshape(x, {-1, 2, 2}) * 2.0; }
  } batch_free;
  auto symbolic = trace(batch_free, randn({3, 4}));
  ASSERT_TRUE(symbolic.ok());
  EXPECT_EQ(symbolic->inputs(0).shape(0), -1);
}

TEST(ModelFile, SavingIsDeterministic) {
  manual_seed(1);
  auto model = make_cnn();
  model->eval();
  Tensor x = randn({1, 1, 8, 8});
  ASSERT_TRUE(save_model(*model, x, tmp("a.tgm"), {{"k", "v"}, {"a", "b"}}).ok());
  ASSERT_TRUE(save_model(*model, x, tmp("b.tgm"), {{"a", "b"}, {"k", "v"}}).ok());
  EXPECT_EQ(slurp(tmp("a.tgm")), slurp(tmp("b.tgm")));
  auto loaded = load_model(tmp("a.tgm"));
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(save_model(*loaded->module, tmp("c.tgm"), {{"k", "v"}, {"a", "b"}}).ok());
  EXPECT_EQ(slurp(tmp("a.tgm")), slurp(tmp("c.tgm")));  // load -> save reproduces the file
}

TEST(ModelFile, TrainEvalBehaviourSurvives) {
  manual_seed(2);
  auto model = make_cnn();
  model->eval();
  ASSERT_TRUE(save_model(*model, randn({2, 1, 8, 8}), tmp("t.tgm")).ok());
  auto loaded = load_model(tmp("t.tgm"));
  ASSERT_TRUE(loaded.ok());
  auto& m = *loaded->module;
  Tensor x = randn({4, 1, 8, 8});
  const auto eval_out = m(x).to_vector<float>();
  EXPECT_EQ(m(x).to_vector<float>(), eval_out);  // eval: deterministic
  m.train();
  const Tensor running_mean = m.state_dict().at("1.running_mean");
  const auto before = running_mean.to_vector<float>();
  EXPECT_NE(m(x).to_vector<float>(), eval_out);  // dropout and batch statistics active
  EXPECT_NE(running_mean.to_vector<float>(), before);  // running statistics updated in place
  // The original module in train mode updates the same way.
  model->train();
  (*model)(x);
  EXPECT_EQ(model->state_dict().at("1.running_mean").to_vector<float>(), running_mean.to_vector<float>());
}

TEST(ModelFile, FineTuningALoadedModel) {
  manual_seed(3);
  auto model = make_cnn();
  model->eval();
  ASSERT_TRUE(save_model(*model, randn({2, 1, 8, 8}), tmp("f.tgm")).ok());
  auto loaded = load_model(tmp("f.tgm"));
  ASSERT_TRUE(loaded.ok());
  auto& m = *loaded->module;
  Tensor x = randn({8, 1, 8, 8});
  Tensor y = tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  // Gradients equal the original module's.
  cross_entropy((*model)(x), y).backward();
  cross_entropy(m(x), y).backward();
  auto orig = model->named_parameters(), mine = m.named_parameters();
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(orig[i].second.grad().to_vector<float>(), mine[i].second.grad().to_vector<float>()) << orig[i].first;
  }
  optim::SGD opt(m.parameters(), 0.1);
  const double first = cross_entropy(m(x), y).item();
  for (int i = 0; i < 5; ++i) {
    opt.zero_grad();
    cross_entropy(m(x), y).backward();
    opt.step();
  }
  EXPECT_LT(cross_entropy(m(x), y).item(), first);
}

TEST(StateDictFile, RoundTrip) {
  manual_seed(4);
  auto a = make_cnn(), b = make_cnn();
  ASSERT_TRUE(save(*a, tmp("w.tgw")).ok());
  ASSERT_TRUE(load(*b, tmp("w.tgw")).ok());
  for (auto& [name, t] : a->state_dict()) {
    EXPECT_EQ(t.to_vector<double>(), b->state_dict().at(name).to_vector<double>()) << name;
  }
  auto other = std::make_shared<nn::Linear>(3, 2);
  absl::Status s = load(*other, tmp("w.tgw"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("missing key 'weight'"));
}

// ---- bad files ----

proto::ModelProto valid_model_proto() {
  manual_seed(5);
  auto model = make_cnn();
  model->eval();
  EXPECT_TRUE(save_model(*model, randn({1, 1, 8, 8}), tmp("valid.tgm")).ok());
  proto::ModelProto m;
  m.ParseFromString(slurp(tmp("valid.tgm")));
  return m;
}

std::string status_of(const proto::ModelProto& m, const std::string& name) {
  const std::string path = tmp(name);
  EXPECT_TRUE(write_file_atomically(path, m.SerializeAsString()).ok());
  auto loaded = load_model(path);
  EXPECT_FALSE(loaded.ok()) << name;
  return std::string(loaded.status().message());
}

TEST(BadFiles, EachProblemIsNamed) {
  const proto::ModelProto good = valid_model_proto();
  {
    auto m = good;
    m.set_format_major(kFormatMajor + 1);
    EXPECT_THAT(status_of(m, "newer"), HasSubstr("is newer than this reader's"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_nodes(0)->set_op("conv3d");
    EXPECT_THAT(status_of(m, "unknown_op"), HasSubstr("graph.nodes[0] (conv3d): unknown op kind 'conv3d'"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_nodes(1)->set_inputs(0, "nowhere");
    EXPECT_THAT(status_of(m, "missing_value"), HasSubstr("inputs[0]: refers to 'nowhere'"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_parameters(0)->mutable_tensor()->mutable_raw_data()->pop_back();
    EXPECT_THAT(status_of(m, "bytes"), HasSubstr("raw_data: "));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_parameters(0)->mutable_tensor()->set_shape(0, -4);
    EXPECT_THAT(status_of(m, "negative"), HasSubstr("negative dimension -4"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_parameters(0)->mutable_tensor()->set_shape(0, int64_t{1} << 40);
    EXPECT_THAT(status_of(m, "huge"), HasSubstr("(0.weight).shape: too many elements"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_nodes(0)->clear_attributes();
    EXPECT_THAT(status_of(m, "attrs"), HasSubstr("does not run"));
  }
  {
    auto m = good;  // the crash the fuzzer found: an int-list attribute of the wrong length
    auto* attrs = m.mutable_graph()->mutable_nodes(0)->mutable_attributes();
    for (auto& a : *attrs)
      if (a.name() == "stride") a.mutable_ints()->mutable_values()->RemoveLast();
    EXPECT_THAT(status_of(m, "stride"), HasSubstr("conv2d: attribute 'stride' needs 2 values, got 1"));
  }
  {
    auto m = good;
    m.mutable_graph()->mutable_nodes(0)->set_inputs(1, "");
    EXPECT_THAT(status_of(m, "undefined_input"), HasSubstr("conv2d: input 1 is undefined"));
  }
  {
    auto m = good;
    proto::AttributeProto* extra = m.mutable_graph()->mutable_nodes(0)->add_attributes();
    extra->set_name("bogus");
    extra->set_i(1);
    EXPECT_THAT(status_of(m, "bogus"), HasSubstr("conv2d: unexpected attribute 'bogus'"));
  }
  {
    auto m = good;  // an adjoint op asking for an enormous buffer is refused, not allocated
    proto::NodeProto* n = m.mutable_graph()->mutable_nodes(0);
    n->set_op("slice_backward");
    n->clear_attributes();
    for (const char* name : {"dim", "start", "end", "step"}) {
      proto::AttributeProto* a = n->add_attributes();
      a->set_name(name);
      a->set_i(std::string(name) == "end" || std::string(name) == "step" ? 1 : 0);
    }
    proto::AttributeProto* shape = n->add_attributes();
    shape->set_name("input_shape");
    for (int64_t d : {int64_t{1}, int64_t{1}, int64_t{1} << 20, int64_t{1} << 20}) shape->mutable_ints()->add_values(d);
    while (n->inputs_size() > 1) n->mutable_inputs()->RemoveLast();
    EXPECT_THAT(status_of(m, "huge_alloc"), HasSubstr("exceeds the limit"));
  }
  {
    auto m = good;
    m.set_kind("checkpoint");
    EXPECT_THAT(status_of(m, "kind"), HasSubstr("is a 'checkpoint' file, expected a 'model' file"));
  }
}

// A forward that throws something other than tg::Error after running an op.
struct ThrowingModule : nn::Module {
  ThrowingModule() : Module("ThrowingModule") {}
  Tensor forward(const Tensor& x) override {
    relu(x);
    throw std::runtime_error("user code failed");
  }
};

TEST(Trace, AnyExceptionRemovesTheTracer) {
  ThrowingModule module;
  EXPECT_THROW(trace(module, zeros({1, 3})), std::runtime_error);
  // The tracer lived on trace()'s stack: nothing may still point at it.
  EXPECT_EQ(tg::set_op_observer(nullptr), nullptr);
  EXPECT_NO_THROW(relu(zeros({2})));
}

TEST(Versioning, UnknownFieldsFromANewerMinorVersionAreTolerated) {
  valid_model_proto();
  std::string bytes = slurp(tmp("valid.tgm"));
  // Field 99 (varint 7) and field 100 (a length-delimited string): fields this reader never heard of.
  bytes += std::string("\x98\x06\x07", 3);
  bytes += std::string("\xa2\x06\x03new", 6);
  ASSERT_TRUE(write_file_atomically(tmp("newer_minor.tgm"), bytes).ok());
  auto loaded = load_model(tmp("newer_minor.tgm"));
  EXPECT_TRUE(loaded.ok()) << loaded.status();
}

TEST(BadFiles, TruncatedEmptyGarbageAndMissing) {
  valid_model_proto();
  const std::string bytes = slurp(tmp("valid.tgm"));
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    ASSERT_TRUE(write_file_atomically(tmp("cut"), bytes.substr(0, cut)).ok());
    auto loaded = load_model(tmp("cut"));
    EXPECT_FALSE(loaded.ok()) << "cut at " << cut;
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(tmp("cut")));
  }
  ASSERT_TRUE(write_file_atomically(tmp("garbage"), std::string(1000, '\xff')).ok());
  EXPECT_FALSE(load_model(tmp("garbage")).ok());
  auto missing = load_model(tmp("does_not_exist"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(Metadata, InputNormalizationIsBothValuesOrNoneAndChecked) {
  auto none = input_normalization({{"classes", "a,b"}}, "m.tgm");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  auto both = input_normalization({{"input_mean", "0.2860"}, {"input_std", "0.3530"}}, "m.tgm");
  ASSERT_TRUE(both.ok() && both->has_value()) << both.status();
  EXPECT_DOUBLE_EQ((*both)->mean, 0.286);
  EXPECT_DOUBLE_EQ((*both)->std, 0.353);
  auto message = [](const std::map<std::string, std::string>& metadata) {
    return std::string(input_normalization(metadata, "m.tgm").status().message());
  };
  EXPECT_EQ(message({{"input_mean", "0.1"}}), "m.tgm: metadata has only one of input_mean and input_std");
  EXPECT_EQ(message({{"input_mean", "x"}, {"input_std", "1"}}), "m.tgm: metadata input_mean is not a finite number: 'x'");
  EXPECT_EQ(message({{"input_mean", "0"}, {"input_std", "inf"}}),
            "m.tgm: metadata input_std is not a finite number: 'inf'");
  EXPECT_THAT(message({{"input_mean", "0"}, {"input_std", "0"}}), HasSubstr("input std must be positive"));
}

TEST(AtomicWrite, FailedWriteLeavesThePreviousFile) {
  ASSERT_TRUE(write_file_atomically(tmp("keep"), "old contents").ok());
  EXPECT_FALSE(write_file_atomically(tmp("no_such_dir/keep"), "x").ok());
  EXPECT_EQ(slurp(tmp("keep")), "old contents");
  ASSERT_TRUE(write_file_atomically(tmp("keep"), "new contents").ok());
  EXPECT_EQ(slurp(tmp("keep")), "new contents");
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(tmp("keep")).parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".keep.tmp"), std::string::npos) << "leftover temp file";
  }
}

}  // namespace
}  // namespace tg::io
