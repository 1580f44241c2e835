// tapegrad/nn/module_test.cc: Module registration and traversal, state dicts and their errors,
// train/eval, summary, and the layers' shapes, defaults and modes.
#include <cmath>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nn/nn.h"

namespace tg::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A user-defined module composed of library layers, inside a Sequential.
struct Block : Module {
  Block() : Module("Block") {
    conv = register_module("conv", std::make_shared<Conv2d>(Conv2dOptions(1, 4, 3).padding_same()));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(4));
  }
  Tensor forward(const Tensor& x) override { return relu((*bn)((*conv)(x))); }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
};

std::shared_ptr<Sequential> make_net() {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Block>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Dropout>(0.5), std::make_shared<Linear>(4 * 4 * 4, 10)});
}

std::vector<std::string> names(const NamedTensors& named) {
  std::vector<std::string> out;
  for (auto& [n, t] : named) out.push_back(n);
  return out;
}

TEST(Module, QualifiedNamesInRegistrationOrder) {
  auto net = make_net();
  EXPECT_THAT(names(net->named_parameters()),
              ElementsAre("0.conv.weight", "0.conv.bias", "0.bn.weight", "0.bn.bias", "4.weight", "4.bias"));
  EXPECT_THAT(names(net->named_buffers()),
              ElementsAre("0.bn.running_mean", "0.bn.running_var", "0.bn.num_batches_tracked"));
  EXPECT_EQ(net->children().size(), 5u);
  EXPECT_EQ(net->num_parameters(), 4 * 9 + 4 + 4 + 4 + 64 * 10 + 10);
}

TEST(Module, TrainEvalPropagatesToChildren) {
  auto net = make_net();
  net->eval();
  for (auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  for (auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, ForwardBackwardAndZeroGrad) {
  auto net = make_net();
  manual_seed(0);
  Tensor x = randn({2, 1, 8, 8});
  Tensor loss = cross_entropy((*net)(x), tensor(std::vector<int64_t>{3, 7}));
  loss.backward();
  for (auto& [name, p] : net->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  net->zero_grad();
  for (auto& [name, p] : net->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;
}

TEST(Module, StateDictRoundTrip) {
  auto a = make_net(), b = make_net();
  Tensor x = randn({2, 1, 8, 8});
  a->eval();
  b->eval();
  b->load_state_dict(a->state_dict());
  EXPECT_EQ((*a)(x).to_vector<float>(), (*b)(x).to_vector<float>());
  // The loaded values are copies: changing a afterwards does not change b.
  NoGradGuard no_grad;
  a->state_dict().at("4.bias").fill_(1.0);
  EXPECT_NE(a->state_dict().at("4.bias").to_vector<float>(), b->state_dict().at("4.bias").to_vector<float>());
}

TEST(Module, LoadStateDictNamesEveryProblemAndChangesNothing) {
  auto net = make_net();
  auto state = net->state_dict();
  const auto before = net->state_dict().at("4.weight").to_vector<float>();
  state.erase("0.conv.bias");
  state["extra.weight"] = zeros({1});
  state["4.weight"] = zeros({3, 3});
  try {
    net->load_state_dict(state);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing key '0.conv.bias'"));
    EXPECT_THAT(e.what(), HasSubstr("unexpected key 'extra.weight'"));
    EXPECT_THAT(e.what(), HasSubstr("'4.weight' has shape [3,3] float32, expected [10,64] float32"));
  }
  EXPECT_EQ(net->state_dict().at("4.weight").to_vector<float>(), before);
  // Non-strict loading tolerates missing and unexpected keys, never a wrong shape.
  state["4.weight"] = zeros({10, 64});
  net->load_state_dict(state, /*strict=*/false);
  EXPECT_EQ(net->state_dict().at("4.weight").to_vector<float>(), std::vector<float>(640, 0.0f));
}

TEST(Module, SummaryListsLayersShapesAndParameters) {
  auto net = make_net();
  const std::string s = net->summary({1, 1, 8, 8});
  EXPECT_THAT(s, HasSubstr("0.conv (Conv2d)"));
  EXPECT_THAT(s, HasSubstr("[1,4,8,8]"));
  EXPECT_THAT(s, HasSubstr("1 (MaxPool2d)"));
  EXPECT_THAT(s, HasSubstr("[1,4,4,4]"));
  EXPECT_THAT(s, HasSubstr("4 (Linear)"));
  EXPECT_THAT(s, HasSubstr("[1,10]"));
  EXPECT_THAT(s, HasSubstr("Total params: 698"));
  EXPECT_THAT(s, HasSubstr("Trainable params: 698"));
  EXPECT_TRUE(net->is_training());  // restored
}

TEST(Module, PrintsLikePyTorch) {
  Linear fc(784, 10);
  EXPECT_EQ(fc.to_string(), "Linear(in_features=784, out_features=10, bias=true)");
  auto net = make_net();
  EXPECT_THAT(net->to_string(), HasSubstr("(1): MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"));
}

TEST(Module, RegistrationErrors) {
  struct Bad : Module {
    Bad() : Module("Bad") {}
  } bad;
  bad.register_parameter("w", zeros({1}));
  EXPECT_THROW(bad.register_parameter("w", zeros({1})), Error);
  EXPECT_THROW(bad.register_parameter("a.b", zeros({1})), Error);
  EXPECT_THROW(bad.forward(zeros({1})), Error);
}

TEST(Layers, DefaultInitializationBoundsLikePyTorch) {
  manual_seed(1);
  Linear fc(400, 50);
  // kaiming_uniform(a=sqrt(5)) gives bound = 1/sqrt(fan_in) for the weight, and so for the bias.
  const double bound = 1.0 / std::sqrt(400.0);
  double max_w = 0, max_b = 0;
  for (float v : fc.weight.to_vector<float>()) max_w = std::max(max_w, std::fabs(double(v)));
  for (float v : fc.bias.to_vector<float>()) max_b = std::max(max_b, std::fabs(double(v)));
  EXPECT_LE(max_w, bound);
  EXPECT_GT(max_w, 0.95 * bound);
  EXPECT_LE(max_b, bound);
  Conv2d conv(Conv2dOptions(16, 32, 5));
  EXPECT_EQ(conv.weight.shape(), Shape({32, 16, 5, 5}));
  for (float v : conv.weight.to_vector<float>()) EXPECT_LE(std::fabs(v), 1.0 / std::sqrt(400.0));
}

TEST(Layers, InitializersFollowTheirFormulas) {
  manual_seed(2);
  Tensor w = zeros({200, 300});
  init::xavier_uniform_(w);
  double max_abs = 0;
  for (float v : w.to_vector<float>()) max_abs = std::max(max_abs, std::fabs(double(v)));
  EXPECT_LE(max_abs, std::sqrt(6.0 / 500));
  EXPECT_GT(max_abs, 0.95 * std::sqrt(6.0 / 500));
  Tensor k = zeros({400, 500});
  init::kaiming_normal_(k, 0.0, init::FanMode::kFanIn, init::Nonlinearity::kRelu);
  const auto v = k.to_vector<double>();
  double ss = 0;
  for (double x : v) ss += x * x;
  EXPECT_NEAR(std::sqrt(ss / v.size()), std::sqrt(2.0 / 500), 0.01 * std::sqrt(2.0 / 500));
  EXPECT_THROW(init::xavier_uniform_(zeros({3})), Error);
}

TEST(Layers, ConvSamePaddingKeepsSpatialSize) {
  Conv2d c(Conv2dOptions(2, 3, 5).padding_same().dilation(2));
  EXPECT_EQ(c(zeros({1, 2, 9, 7})).shape(), Shape({1, 3, 9, 7}));
  EXPECT_THROW(Conv2d(Conv2dOptions(2, 3, 4).padding_same()), Error);
  EXPECT_THROW(Conv2d(Conv2dOptions(2, 3, 3).padding_same().stride(2)), Error);
}

TEST(Layers, BatchNormTrainUpdatesRunningStatsEvalUsesThem) {
  BatchNorm1d bn(2);
  Tensor x = tensor({{1.0, 10.0}, {3.0, 30.0}});
  bn(x);
  EXPECT_THAT(bn.running_mean.to_vector<double>(), ElementsAre(testing::DoubleNear(0.2, 1e-6), testing::DoubleNear(2.0, 1e-6)));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  bn.eval();
  const auto before = bn.running_mean.to_vector<double>();
  Tensor y = bn(x);
  EXPECT_EQ(bn.running_mean.to_vector<double>(), before);
  EXPECT_NEAR(y.to_vector<double>()[0], (1.0 - 0.2) / std::sqrt(0.9 + 0.1 * 2 + 1e-5), 1e-5);
  EXPECT_THROW(bn(zeros({2, 3})), Error);
  BatchNorm2d bn2(3);
  EXPECT_THROW(bn2(zeros({2, 3})), Error);
}

TEST(Layers, EmbeddingLooksUpRowsAndKeepsThePaddingRowAtZero) {
  Embedding emb(EmbeddingOptions{5, 3, /*padding_idx=*/-1});
  EXPECT_THAT(names(emb.named_parameters()), ElementsAre("weight"));
  EXPECT_EQ(emb.weight.shape(), (Shape{5, 3}));
  EXPECT_EQ(narrow(emb.weight, 0, 4, 1).to_vector<double>(), std::vector<double>(3, 0.0));
  const Tensor tokens = tensor(std::vector<int64_t>{1, 4, 1, 0}, {2, 2}, kInt64);
  const Tensor h = emb(tokens);
  EXPECT_EQ(h.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(narrow(reshape(h, {4, 3}), 0, 2, 1).to_vector<double>(), narrow(emb.weight, 0, 1, 1).to_vector<double>());
  sum(h).backward();
  // Row 1 read twice, row 0 once, the padding row 4 not at all, rows 2 and 3 never read.
  EXPECT_EQ(emb.weight.grad().to_vector<double>(), (std::vector<double>{1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(emb.extra_repr(), "5, 3, padding_idx=-1");
  EXPECT_THAT(Embedding(2, 2).extra_repr(), "2, 2");
  EXPECT_THROW(emb(tensor(std::vector<int64_t>{5}, {1}, kInt64)), Error);
  EXPECT_THROW(emb(zeros({2})), Error);
  EXPECT_THROW(Embedding(EmbeddingOptions{5, 3, 5}), Error);
}

TEST(Layers, EmbeddingFromPretrainedCopiesAndFreezes) {
  const Tensor table = tensor({{1.0, 2.0}, {3.0, 4.0}});
  auto frozen = Embedding::from_pretrained(table);
  EXPECT_FALSE(frozen->weight.requires_grad());
  EXPECT_EQ(frozen->weight.to_vector<double>(), table.to_vector<double>());
  EXPECT_EQ((*frozen)(tensor(std::vector<int64_t>{1}, {1}, kInt64)).to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_TRUE(Embedding::from_pretrained(table, /*freeze=*/false)->weight.requires_grad());
}

TEST(Layers, LayerNormNormalizesTrailingDimsWithAffineParameters) {
  LayerNorm ln(LayerNormOptions{{2, 2}});
  EXPECT_THAT(names(ln.named_parameters()), ElementsAre("weight", "bias"));
  const Tensor y = ln(tensor({{1.0, 2.0}, {3.0, 4.0}}).reshape({1, 2, 2}));
  const double r = 1 / std::sqrt(1.25 + 1e-5);
  EXPECT_THAT(y.to_vector<double>(), ElementsAre(testing::DoubleNear(-1.5 * r, 1e-6), testing::DoubleNear(-0.5 * r, 1e-6),
                                                 testing::DoubleNear(0.5 * r, 1e-6), testing::DoubleNear(1.5 * r, 1e-6)));
  EXPECT_TRUE(LayerNorm(LayerNormOptions{{4}, 1e-5, false}).named_parameters().empty());
  EXPECT_EQ(ln.extra_repr(), "[2,2], eps=1e-05, elementwise_affine=true");
  EXPECT_THROW(ln(zeros({2, 3})), Error);
  EXPECT_THROW(LayerNorm(LayerNormOptions{{}}), Error);
}

TEST(Layers, EveryActivationModuleMatchesItsFunction) {
  const Tensor x = tensor(std::vector<double>{-3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 7.0, 1.5}, {2, 4}, kFloat64);
  const std::vector<std::pair<std::shared_ptr<Module>, Tensor>> cases = {
      {std::make_shared<ReLU6>(), hardtanh(x, 0, 6)},
      {std::make_shared<GELU>("tanh"), gelu(x, "tanh")},
      {std::make_shared<ELU>(0.5), elu(x, 0.5)},
      {std::make_shared<SELU>(), selu(x)},
      {std::make_shared<CELU>(2.0), celu(x, 2.0)},
      {std::make_shared<Softplus>(2.0, 10.0), softplus(x, 2.0, 10.0)},
      {std::make_shared<SiLU>(), silu(x)},
      {std::make_shared<Mish>(), mish(x)},
      {std::make_shared<Hardtanh>(-2.0, 2.0), hardtanh(x, -2, 2)},
      {std::make_shared<Hardsigmoid>(), hardsigmoid(x)},
      {std::make_shared<Hardswish>(), hardswish(x)},
      {std::make_shared<LogSigmoid>(), log_sigmoid(x)},
      {std::make_shared<GLU>(1), glu(x, 1)},
      {std::make_shared<Identity>(), x},
  };
  for (const auto& [m, want] : cases) EXPECT_TRUE(equal((*m)(x), want)) << m->type_name();
  PReLU prelu_layer(4, 0.25, kFloat64);
  EXPECT_THAT(names(prelu_layer.named_parameters()), ElementsAre("weight"));
  EXPECT_TRUE(equal(prelu_layer(x), prelu(x, full({4}, 0.25, kFloat64))));
  EXPECT_EQ(GELU("tanh").extra_repr(), "approximate='tanh'");
  EXPECT_THROW(GELU("fast"), Error);
  EXPECT_THROW(Hardtanh(1, -1), Error);
}

TEST(Layers, GroupInstanceAndRmsNormModules) {
  const Tensor x = randn({2, 4, 3, 3});
  GroupNorm gn(2, 4);
  EXPECT_THAT(names(gn.named_parameters()), ElementsAre("weight", "bias"));
  EXPECT_TRUE(equal(gn(x), group_norm(x, 2, gn.weight, gn.bias)));
  InstanceNorm2d in(4);
  EXPECT_TRUE(in.named_parameters().empty());
  EXPECT_TRUE(equal(in(x), instance_norm(x)));
  EXPECT_EQ(in(select(x, 0, 0)).shape(), (Shape{4, 3, 3}));  // unbatched
  RMSNorm rms(RMSNormOptions{{3}, 1e-6});
  EXPECT_TRUE(equal(rms(x), rms_norm(x, {3}, rms.weight, 1e-6)));
  EXPECT_THROW(GroupNorm(3, 4), Error);
  EXPECT_THROW(in(zeros({2, 5, 3, 3})), Error);
}

TEST(Layers, OneDimensionalAdaptiveAndPixelShuffleModules) {
  Conv1d conv(Conv1dOptions(4, 6, 3).padding_same().groups(2));
  EXPECT_EQ(conv.weight.shape(), (Shape{6, 2, 3}));
  const Tensor seq = randn({2, 4, 9});
  EXPECT_EQ(conv(seq).shape(), (Shape{2, 6, 9}));
  EXPECT_EQ(conv(select(seq, 0, 0)).shape(), (Shape{6, 9}));  // unbatched
  EXPECT_EQ(MaxPool1d(3, 2)(seq).shape(), (Shape{2, 4, 4}));
  EXPECT_EQ(AvgPool1d(2)(seq).shape(), (Shape{2, 4, 4}));
  EXPECT_EQ(AdaptiveAvgPool1d(4)(seq).shape(), (Shape{2, 4, 4}));
  const Tensor seq7 = narrow(seq, 2, 0, 7);
  EXPECT_TRUE(equal(MaxPool1d(MaxPool1dOptions{.kernel = 2, .stride = 2, .padding = 1, .dilation = 2, .ceil_mode = true})(seq7),
                    max_pool1d(seq7, 2, 2, 1, 2, true)));
  AvgPool1d avg(AvgPool1dOptions{.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
  EXPECT_TRUE(equal(avg(seq7), avg_pool1d(seq7, 3, 2, 1, true, false)));
  EXPECT_EQ(avg.extra_repr(), "kernel_size=3, stride=2, padding=1, ceil_mode=true, count_include_pad=false");
  ConvTranspose2d up(ConvTranspose2dOptions(8, 4, 3).stride(2).padding(1).output_padding(1));
  EXPECT_EQ(up.weight.shape(), (Shape{8, 4, 3, 3}));
  EXPECT_EQ(up(randn({2, 8, 5, 7})).shape(), (Shape{2, 4, 10, 14}));
  EXPECT_EQ(up.extra_repr(), "8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1)");
  const Tensor img = randn({2, 8, 5, 7});
  EXPECT_TRUE(equal(AdaptiveAvgPool2d(1)(img), mean(img, {2, 3}, true)));
  EXPECT_EQ(AdaptiveMaxPool2d({2, 3})(img).shape(), (Shape{2, 8, 2, 3}));
  EXPECT_TRUE(equal(PixelUnshuffle(2)(PixelShuffle(2)(img)), img));
  EXPECT_EQ(conv.extra_repr(), "4, 6, kernel_size=(3,), stride=(1,), padding=(1,), groups=2");
  EXPECT_EQ(Upsample(UpsampleOptions{.scale_factor = std::vector<double>{2.0}, .mode = "bilinear"})(img).shape(),
            (Shape{2, 8, 10, 14}));
  EXPECT_THROW(PixelShuffle(3)(img), Error);
  EXPECT_THROW(AdaptiveAvgPool2d(0)(img), Error);
}

TEST(Module, ApplyVisitsChildrenFirstAndModuleDictKeepsOrder) {
  auto net = make_net();
  std::vector<std::string> order;
  net->apply([&](Module& m) { order.push_back(m.type_name()); });
  EXPECT_THAT(order, ElementsAre("Conv2d", "BatchNorm2d", "Block", "MaxPool2d", "Flatten", "Dropout", "Linear", "Sequential"));
  // A custom initialization through apply.
  net->apply([](Module& m) {
    if (auto* linear = dynamic_cast<Linear*>(&m)) init::zeros_(linear->bias);
  });
  EXPECT_EQ(sum(abs(std::dynamic_pointer_cast<Linear>((*net)[4])->bias)).item(), 0.0);

  ModuleDict heads{{"classify", std::make_shared<Linear>(4, 3)}, {"regress", std::make_shared<Linear>(4, 1)}};
  EXPECT_THAT(heads.keys(), ElementsAre("classify", "regress"));
  EXPECT_TRUE(heads.contains("regress"));
  EXPECT_EQ((*heads["regress"])(zeros({2, 4})).shape(), (Shape{2, 1}));
  EXPECT_THAT(names(heads.named_parameters()), ElementsAre("classify.weight", "classify.bias", "regress.weight", "regress.bias"));
  EXPECT_THROW(heads["missing"], Error);
  EXPECT_THROW(heads.insert("classify", std::make_shared<ReLU>()), Error);
}

// module.to(kFloat64) converts parameters, gradients and floating buffers in place: the same
// tensor objects (member handles see the new dtype), the integral counter kept, the float64
// model computing what the float32 one did and gradchecking through it.
TEST(Module, ToConvertsFloatingStateInPlace) {
  manual_seed(4);
  auto model = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 3), std::make_shared<BatchNorm1d>(3), std::make_shared<Tanh>(),
      std::make_shared<Linear>(3, 2)});
  model->eval();
  auto first = std::dynamic_pointer_cast<Linear>(model->children()[0]);
  const Tensor x = randn({5, 4});
  const std::vector<float> y32 = (*model)(x).to_vector<float>();
  sum((*model)(x)).backward();
  const std::vector<float> grad32 = first->weight.grad().to_vector<float>();
  const TensorImpl* weight_impl = first->weight.impl().get();

  model->to(kFloat64);
  EXPECT_EQ(first->weight.impl().get(), weight_impl);
  EXPECT_EQ(first->weight.dtype(), kFloat64);
  EXPECT_TRUE(first->weight.requires_grad());
  EXPECT_EQ(first->weight.grad().dtype(), kFloat64);
  for (size_t i = 0; i < grad32.size(); ++i) EXPECT_EQ(first->weight.grad().to_vector<double>()[i], grad32[i]);
  for (const auto& [name, b] : model->named_buffers()) {
    EXPECT_EQ(b.dtype(), name == "1.num_batches_tracked" ? kInt64 : kFloat64) << name;
  }
  const Tensor x64 = x.to(kFloat64).set_requires_grad();
  const Tensor y64 = (*model)(x64);
  ASSERT_EQ(y64.dtype(), kFloat64);
  const std::vector<double> y = y64.to_vector<double>();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y32[i], 1e-5);
  EXPECT_TRUE(autograd::gradcheck([&](const std::vector<Tensor>& in) { return (*model)(in[0]); }, {x64}));
  model->to(kFloat32);
  EXPECT_EQ((*model)(x).dtype(), kFloat32);
  EXPECT_THROW(model->to(kInt64), Error);
  EXPECT_THROW(first->weight.set_data(tensor(std::vector<int64_t>{1, 2}, {2})), Error);  // integral data for a parameter
}

TEST(Layers, PoolOptionsReachTheFunctions) {
  const Tensor x = randn({1, 2, 5, 7});
  MaxPool2d max({.kernel = 2, .padding = 1, .dilation = 2, .ceil_mode = true});
  EXPECT_EQ(max(x).to_vector<float>(), max_pool2d(x, 2, 2, 1, 2, true).to_vector<float>());
  EXPECT_EQ(max.extra_repr(), "kernel_size=(2, 2), stride=(2, 2), padding=(1, 1), dilation=(2, 2), ceil_mode=true");
  AvgPool2d avg({.kernel = 3, .stride = Size2(2), .ceil_mode = true, .divisor_override = 4});
  EXPECT_EQ(avg(x).to_vector<float>(), avg_pool2d(x, 3, 2, 0, true, true, 4).to_vector<float>());
  EXPECT_EQ(avg.extra_repr(), "kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), ceil_mode=true, divisor_override=4");
}

TEST(Layers, DropoutOnlyInTraining) {
  Dropout d(0.5);
  Tensor x = ones({1000});
  EXPECT_NE(d(x).to_vector<float>(), x.to_vector<float>());
  d.eval();
  EXPECT_EQ(d(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Losses, WeightedAndNewLossModulesMatchFunctions) {
  const Tensor x = tensor({{0.2, -1.0, 0.5}, {1.5, 0.3, -0.2}}), y = tensor(std::vector<int64_t>{2, 0});
  const Tensor w = tensor({0.5, 1.0, 2.0});
  CrossEntropyLoss ce(w, Reduction::kMean, 0.1);
  EXPECT_THAT(names(ce.named_buffers()), ElementsAre("weight"));
  EXPECT_EQ(ce(x, y).item(), cross_entropy(x, y, w, Reduction::kMean, 0.1).item());
  EXPECT_EQ(NLLLoss(w, Reduction::kSum)(log_softmax(x, 1), y).item(), nll_loss(log_softmax(x, 1), y, w, Reduction::kSum).item());
  const Tensor p = sigmoid(x), t = tensor({{0.0, 1.0, 1.0}, {1.0, 0.0, 0.5}});
  EXPECT_EQ(BCELoss(w)(p, t).item(), binary_cross_entropy(p, t, w).item());
  BCEWithLogitsLoss bce_logits(w, w * 2.0);
  EXPECT_THAT(names(bce_logits.named_buffers()), ElementsAre("weight", "pos_weight"));
  EXPECT_EQ(bce_logits(x, t).item(), binary_cross_entropy_with_logits(x, t, w, w * 2.0).item());
  EXPECT_EQ(L1Loss()(x, t).item(), l1_loss(x, t).item());
  EXPECT_EQ(SmoothL1Loss(Reduction::kSum, 0.5)(x, t).item(), smooth_l1_loss(x, t, Reduction::kSum, 0.5).item());
  EXPECT_EQ(HuberLoss(Reduction::kMean, 0.3)(x, t).item(), huber_loss(x, t, Reduction::kMean, 0.3).item());
  EXPECT_EQ(KLDivLoss(Reduction::kBatchMean)(log_softmax(x, 1), softmax(t, 1)).item(),
            kl_div(log_softmax(x, 1), softmax(t, 1), Reduction::kBatchMean).item());
  const Tensor signs = tensor({1.0, -1.0});
  EXPECT_EQ(MarginRankingLoss(0.1)(sum(x, 1), sum(t, 1), signs).item(), margin_ranking_loss(sum(x, 1), sum(t, 1), signs, 0.1).item());
  EXPECT_EQ(TripletMarginLoss(0.5)(x, t, -x).item(), triplet_margin_loss(x, t, -x, 0.5).item());
  EXPECT_EQ(CosineEmbeddingLoss(0.2)(x, t, signs).item(), cosine_embedding_loss(x, t, signs, 0.2).item());
  // CTC, batched float32 and the unbatched form ([T, C] with [S] targets) of the same sample.
  const Tensor lp = log_softmax(reshape(arange(0.0, 2.4, 0.1), {4, 2, 3}), 2);
  const Tensor targets = tensor(std::vector<int64_t>{1, 2, 2, 0}, {2, 2}), lengths = tensor(std::vector<int64_t>{4, 3});
  const Tensor target_lengths = tensor(std::vector<int64_t>{2, 1});
  const Tensor per_sample = ctc_loss(lp, targets, lengths, target_lengths, 0, Reduction::kNone);
  EXPECT_EQ(CTCLoss(0, Reduction::kNone)(lp, targets, lengths, target_lengths).to_vector<float>(), per_sample.to_vector<float>());
  EXPECT_FLOAT_EQ(CTCLoss()(lp, targets, lengths, target_lengths).item(),
                  (per_sample.to_vector<float>()[0] / 2 + per_sample.to_vector<float>()[1]) / 2);
  const Tensor single = ctc_loss(select(lp, 1, 0), select(targets, 0, 0), tensor(std::vector<int64_t>{4}), tensor(std::vector<int64_t>{2}), 0,
                                 Reduction::kNone);
  EXPECT_EQ(single.dim(), 0);
  EXPECT_FLOAT_EQ(single.item(), per_sample.to_vector<float>()[0]);
}

TEST(Losses, ModulesMatchFunctions) {
  Tensor logits = tensor({{1.0, 2.0, 3.0}}), target = tensor(std::vector<int64_t>{0});
  EXPECT_EQ(CrossEntropyLoss()(logits, target).item(), cross_entropy(logits, target).item());
  EXPECT_EQ(CrossEntropyLoss(Reduction::kSum, 0.2)(logits, target).item(),
            cross_entropy(logits, target, Reduction::kSum, 0.2).item());
  EXPECT_EQ(NLLLoss()(log_softmax(logits, 1), target).item(), cross_entropy(logits, target).item());
  EXPECT_EQ(MSELoss(Reduction::kNone)(tensor({1.0, 2.0}), tensor({0.0, 0.0})).to_vector<float>(),
            (std::vector<float>{1.0f, 4.0f}));
  EXPECT_NEAR(BCEWithLogitsLoss()(tensor({0.0}), tensor({1.0})).item(), std::log(2.0), 1e-6);
}

}  // namespace
}  // namespace tg::nn
