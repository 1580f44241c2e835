// tapegrad/tests/modules_reference_test.cc: MultiheadAttention, TransformerEncoderLayer and
// TransformerEncoder against Debian's PyTorch (tests/reference/modules_reference.py): each case
// builds the module with PyTorch's configuration, loads PyTorch's state dict strictly (the names
// must match one to one), and compares outputs, attention weights and gradients in float64.
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nn/nn.h"
#include "ops/testing/error_of.h"

namespace tg::nn {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
#include "tests/reference/modules_reference.inc"

Tensor reference(const std::string& name) {
  auto values = kModulesReference.find(name), shape = kModulesReference.find(name + "/shape");
  TG_CHECK(values != kModulesReference.end() && shape != kModulesReference.end(), "no reference entry ", name);
  Shape s;
  for (double d : shape->second) s.push_back(static_cast<int64_t>(d));
  return tensor(values->second, s, kFloat64);
}
Tensor input(const std::string& name) { return reference(name).set_requires_grad(); }
Tensor mask(const std::string& name) { return reference(name) != 0; }

// Loads the case's state dict strictly, after checking PyTorch's names are exactly the module's.
void load_reference_state(Module& m, const std::string& c) {
  const std::string prefix = c + "/state/";
  std::map<std::string, Tensor> state;
  for (const auto& [name, values] : kModulesReference) {
    if (name.rfind(prefix, 0) == 0 && name.find("/shape") == std::string::npos) {
      state[name.substr(prefix.size())] = reference(name);
    }
  }
  std::set<std::string> ours, theirs;
  for (const auto& [name, t] : m.state_dict()) ours.insert(name);
  for (const auto& [name, t] : state) theirs.insert(name);
  ASSERT_EQ(ours, theirs);
  m.load_state_dict(state);
}

void expect_close(const Tensor& got, const std::string& name) {
  const Tensor want = reference(name);
  ASSERT_TRUE(got.defined()) << name;
  ASSERT_EQ(got.shape(), want.shape()) << name;
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], w[i], 1e-10 * std::max(1.0, std::abs(w[i]))) << name << "[" << i << "]";
}

// sum(out * w), w = 1, 2, 3... / 100, as the script.
Tensor weighted(const Tensor& t) {
  return sum(t * reshape(arange(1, t.numel() + 1, 1, kFloat64) / 100, t.shape()));
}

Tensor param(Module& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters()) {
    if (n == name) return t;
  }
  TG_CHECK(false, "no parameter ", name);
  return {};
}

void expect_grads(const Tensor& loss, Module& m, const std::string& c, const std::map<std::string, Tensor>& inputs,
                  const std::vector<std::string>& names) {
  std::vector<Tensor> targets;
  for (const std::string& n : names) targets.push_back(inputs.count(n) ? inputs.at(n) : param(m, n));
  const std::vector<Tensor> grads = autograd::grad({loss}, targets);
  for (size_t i = 0; i < names.size(); ++i) expect_close(grads[i], c + "/grad/" + names[i]);
}

TEST(ModulesReference, MultiheadAttentionBatchFirstWithMasksAndAveragedWeights) {
  const std::string c = "mha_batch_first";
  MultiheadAttention mha(MultiheadAttentionOptions{8, 2, 0.0, true, /*batch_first=*/true, kFloat64});
  load_reference_state(mha, c);
  const Tensor q = input(c + "/query"), k = input(c + "/key"), v = input(c + "/value");
  auto [out, weights] = mha.forward(q, k, v, mask(c + "/key_padding_mask"), true, reference(c + "/attn_mask"));
  expect_close(out, c + "/out/output");
  expect_close(weights, c + "/out/weights");
  expect_grads(weighted(out) + weighted(weights), mha, c, {{"query", q}, {"key", k}, {"value", v}},
               {"query", "key", "value", "in_proj_weight", "out_proj.weight"});
}

TEST(ModulesReference, MultiheadAttentionPerHeadBoolMaskWeightsPerHead) {
  const std::string c = "mha_per_head_bool_mask";
  MultiheadAttention mha(MultiheadAttentionOptions{8, 2, 0.0, true, false, kFloat64});
  load_reference_state(mha, c);
  const Tensor x = input(c + "/query");
  auto [out, weights] = mha.forward(x, x, x, {}, true, mask(c + "/attn_mask"), /*average_attn_weights=*/false);
  expect_close(out, c + "/out/output");
  expect_close(weights, c + "/out/weights");
  expect_grads(weighted(out) + weighted(weights), mha, c, {{"query", x}}, {"query", "in_proj_bias"});
}

TEST(ModulesReference, MultiheadAttentionUnbatchedWithoutWeightsTakesTheFusedRow) {
  const std::string c = "mha_unbatched_no_weights";
  MultiheadAttention mha(MultiheadAttentionOptions{6, 3, 0.0, /*bias=*/false, false, kFloat64});
  load_reference_state(mha, c);
  const Tensor x = input(c + "/query");
  auto [out, weights] = mha.forward(x, x, x, {}, /*need_weights=*/false, reference(c + "/attn_mask"));
  EXPECT_FALSE(weights.defined());
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), mha, c, {{"query", x}}, {"query", "in_proj_weight"});
}

TEST(ModulesReference, PostNormEncoderLayerWithCausalAndPaddingMasks) {
  const std::string c = "encoder_layer_post_relu";
  TransformerEncoderLayer layer(TransformerEncoderLayerOptions{8, 2, 16, 0.0, "relu", 1e-5, true, false, kFloat64});
  load_reference_state(layer, c);
  const Tensor src = input(c + "/src");
  EXPECT_TRUE(equal(generate_square_subsequent_mask(5, kFloat64), reference(c + "/src_mask")));
  const Tensor out = layer.forward(src, generate_square_subsequent_mask(5, kFloat64), mask(c + "/src_key_padding_mask"));
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), layer, c, {{"src", src}},
               {"src", "self_attn.in_proj_weight", "linear1.weight", "norm1.weight"});
}

TEST(ModulesReference, PreNormGeluEncoderStackWithFinalNorm) {
  const std::string c = "encoder_pre_gelu_stack";
  TransformerEncoder encoder(
      TransformerEncoderOptions{{8, 4, 12, 0.0, "gelu", 1e-5, false, /*norm_first=*/true, kFloat64}, 2, /*final_norm=*/true});
  load_reference_state(encoder, c);
  const Tensor src = input(c + "/src");
  const Tensor out = encoder.forward(src, reference(c + "/src_mask"));
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), encoder, c, {{"src", src}},
               {"src", "layers.0.linear2.weight", "layers.1.self_attn.out_proj.weight", "norm.bias"});
}

TEST(ModulesReference, PostNormDecoderStackWithCausalAndMemoryPadding) {
  const std::string c = "decoder_post_norm_stack";
  TransformerDecoder decoder(
      TransformerDecoderOptions{{8, 2, 16, 0.0, "relu", 1e-5, /*batch_first=*/true, false, kFloat64}, 2, /*final_norm=*/true});
  load_reference_state(decoder, c);
  const Tensor tgt = input(c + "/tgt"), memory = input(c + "/memory");
  const Tensor out = decoder.forward(tgt, memory, reference(c + "/tgt_mask"), {}, {}, mask(c + "/memory_key_padding_mask"));
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), decoder, c, {{"tgt", tgt}, {"memory", memory}},
               {"tgt", "memory", "layers.0.multihead_attn.in_proj_weight", "layers.1.norm3.weight", "norm.weight"});
}

TEST(ModulesReference, PreNormGeluDecoderLayerWithMemoryMask) {
  const std::string c = "decoder_layer_pre_gelu";
  TransformerDecoderLayer layer(TransformerEncoderLayerOptions{8, 4, 12, 0.0, "gelu", 1e-5, false, /*norm_first=*/true, kFloat64});
  load_reference_state(layer, c);
  const Tensor tgt = input(c + "/tgt"), memory = input(c + "/memory");
  const Tensor out = layer.forward(tgt, memory, {}, reference(c + "/memory_mask"));
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), layer, c, {{"tgt", tgt}, {"memory", memory}},
               {"tgt", "memory", "multihead_attn.out_proj.weight", "linear1.bias"});
}

// ---- recurrent layers ----

TEST(ModulesReference, LstmTwoLayersBidirectionalBatchFirstWithInitialState) {
  const std::string c = "lstm_two_layers_bidirectional";
  LSTM lstm(LSTMOptions{.input_size = 5, .hidden_size = 4, .num_layers = 2, .batch_first = true, .bidirectional = true,
                        .dtype = kFloat64});
  load_reference_state(lstm, c);
  const Tensor x = input(c + "/input"), h0 = input(c + "/h0"), c0 = input(c + "/c0");
  auto [out, state] = lstm.forward(x, std::make_tuple(h0, c0));
  auto [h, cn] = state;
  expect_close(out, c + "/out/output");
  expect_close(h, c + "/out/h_n");
  expect_close(cn, c + "/out/c_n");
  expect_grads(weighted(out) + weighted(h) + weighted(cn), lstm, c, {{"input", x}, {"h0", h0}, {"c0", c0}},
               {"input", "h0", "c0", "weight_hh_l1_reverse", "bias_ih_l0"});
  // Without recording, each direction runs as one lstm_layer_inference: the same values.
  NoGradGuard no_grad;
  auto [out_inference, state_inference] = lstm.forward(x, std::make_tuple(h0, c0));
  expect_close(out_inference, c + "/out/output");
  expect_close(std::get<0>(state_inference), c + "/out/h_n");
  expect_close(std::get<1>(state_inference), c + "/out/c_n");
}

TEST(ModulesReference, LstmWithoutInitialStateSequenceFirst) {
  const std::string c = "lstm_zero_state";
  LSTM lstm(LSTMOptions{.input_size = 5, .hidden_size = 4, .dtype = kFloat64});
  load_reference_state(lstm, c);
  const Tensor x = input(c + "/input");
  auto [out, state] = lstm.forward(x, std::nullopt);
  expect_close(out, c + "/out/output");
  expect_close(std::get<0>(state), c + "/out/h_n");
  expect_close(std::get<1>(state), c + "/out/c_n");
  expect_grads(weighted(out) + weighted(std::get<0>(state)) + weighted(std::get<1>(state)), lstm, c, {{"input", x}},
               {"input", "weight_ih_l0", "bias_hh_l0"});
  NoGradGuard no_grad;  // the inference path (lstm_layer_inference), zero initial state
  auto [out_inference, state_inference] = lstm.forward(x, std::nullopt);
  expect_close(out_inference, c + "/out/output");
  expect_close(std::get<0>(state_inference), c + "/out/h_n");
  expect_close(std::get<1>(state_inference), c + "/out/c_n");
}

TEST(ModulesReference, GruTwoLayersWithInitialState) {
  const std::string c = "gru_two_layers";
  GRU gru(GRUOptions{.input_size = 5, .hidden_size = 4, .num_layers = 2, .dtype = kFloat64});
  load_reference_state(gru, c);
  const Tensor x = input(c + "/input"), h0 = input(c + "/h0");
  auto [out, h] = gru.forward(x, h0);
  expect_close(out, c + "/out/output");
  expect_close(h, c + "/out/h_n");
  expect_grads(weighted(out) + weighted(h), gru, c, {{"input", x}, {"h0", h0}}, {"input", "h0", "weight_hh_l0", "bias_hh_l1"});
}

TEST(ModulesReference, GruUnbatchedWithoutBias) {
  const std::string c = "gru_unbatched_no_bias";
  GRU gru(GRUOptions{.input_size = 3, .hidden_size = 4, .bias = false, .dtype = kFloat64});
  load_reference_state(gru, c);
  const Tensor x = input(c + "/input");
  auto [out, h] = gru.forward(x, Tensor());
  expect_close(out, c + "/out/output");
  expect_close(h, c + "/out/h_n");
  expect_grads(weighted(out) + weighted(h), gru, c, {{"input", x}}, {"input", "weight_hh_l0"});
}

TEST(ModulesReference, RnnReluBidirectional) {
  const std::string c = "rnn_relu_bidirectional";
  RNNOptions o{{.input_size = 3, .hidden_size = 4, .batch_first = true, .bidirectional = true, .dtype = kFloat64}};
  o.nonlinearity = RNNNonlinearity::kReLU;
  RNN rnn(o);
  load_reference_state(rnn, c);
  const Tensor x = input(c + "/input"), h0 = input(c + "/h0");
  auto [out, h] = rnn.forward(x, h0);
  expect_close(out, c + "/out/output");
  expect_close(h, c + "/out/h_n");
  expect_grads(weighted(out) + weighted(h), rnn, c, {{"input", x}, {"h0", h0}}, {"input", "h0", "weight_ih_l0_reverse"});
}

TEST(ModulesReference, ConvTranspose2dWithOutputSize) {
  const std::string c = "conv_transpose2d_output_size";
  ConvTranspose2d up(ConvTranspose2dOptions(4, 6, {3, 2}).stride({2, 3}).padding({1, 0}).groups(2).dilation({1, 2}).dtype(kFloat64));
  load_reference_state(up, c);
  const Tensor x = input(c + "/input");
  const Tensor out = up.forward(x, {6, 14});
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), up, c, {{"input", x}}, {"input", "weight", "bias"});
  // The sizes a stride of [2, 3] can give from [3, 4] are [5..6] x [12..14].
  EXPECT_EQ(up.forward(x, {2, 6, 5, 12}).shape(), (Shape{2, 6, 5, 12}));
  EXPECT_THAT(error_of([&] { up.forward(x, {7, 14}); }),
              testing::HasSubstr("ConvTranspose2d: requested output size 7 of spatial dim 0 is outside [5, 6]"));
  EXPECT_THAT(error_of([&] { up.forward(x, {6}); }), testing::HasSubstr("output_size must have 2 or 4 elements, got 1"));
}

TEST(ModulesReference, ConvTranspose1dUnbatched) {
  const std::string c = "conv_transpose1d_unbatched";
  ConvTranspose1d up(ConvTranspose1dOptions(3, 2, 4).stride(2).padding(1).output_padding(1).bias(false).dtype(kFloat64));
  load_reference_state(up, c);
  const Tensor x = input(c + "/input");
  const Tensor out = up(x);
  expect_close(out, c + "/out/output");
  expect_grads(weighted(out), up, c, {{"input", x}}, {"input", "weight"});
  EXPECT_EQ(up.extra_repr(), "3, 2, kernel_size=(4,), stride=(2,), padding=(1,), output_padding=(1,), bias=false");
}

TEST(ModulesReference, Cells) {
  {
    const std::string c = "lstm_cell";
    LSTMCell cell(RNNCellOptions{.input_size = 3, .hidden_size = 4, .dtype = kFloat64});
    load_reference_state(cell, c);
    const Tensor x = input(c + "/input"), h0 = input(c + "/h0"), c0 = input(c + "/c0");
    auto [h, cn] = cell.forward(x, std::make_tuple(h0, c0));
    expect_close(h, c + "/out/h");
    expect_close(cn, c + "/out/c");
    expect_grads(weighted(h) + weighted(cn), cell, c, {{"input", x}, {"h0", h0}, {"c0", c0}}, {"input", "h0", "c0", "weight_hh"});
  }
  {
    const std::string c = "gru_cell";
    GRUCell cell(RNNCellOptions{.input_size = 3, .hidden_size = 4, .dtype = kFloat64});
    load_reference_state(cell, c);
    const Tensor x = input(c + "/input"), h0 = input(c + "/h0");
    const Tensor h = cell.forward(x, h0);
    expect_close(h, c + "/out/h");
    expect_grads(weighted(h), cell, c, {{"input", x}, {"h0", h0}}, {"input", "h0", "bias_hh"});
  }
  {
    const std::string c = "rnn_cell_unbatched_zero_state";
    RNNCell cell(RNNCellOptions{.input_size = 3, .hidden_size = 4, .dtype = kFloat64});
    load_reference_state(cell, c);
    const Tensor x = input(c + "/input");
    const Tensor h = cell.forward(x, Tensor());
    expect_close(h, c + "/out/h");
    expect_grads(weighted(h), cell, c, {{"input", x}}, {"input", "weight_ih"});
  }
}

TEST(Modules, RecurrentErrorsNameTheProblem) {
  LSTM lstm(LSTMOptions{.input_size = 5, .hidden_size = 4, .num_layers = 2});
  EXPECT_THAT(error_of([&] { lstm.forward(zeros({3, 2, 6}), std::nullopt); }),
              testing::HasSubstr("LSTM: input [3,2,6] has 6 features, expected input_size 5"));
  EXPECT_THAT(error_of([&] { lstm.forward(zeros({3, 2, 5}), std::make_tuple(zeros({1, 2, 4}), zeros({2, 2, 4}))); }),
              testing::HasSubstr("LSTM: h_0 [1,2,4] should be [2,2,4]"));
  EXPECT_THAT(error_of([&] { lstm.forward(zeros({0, 2, 5}), std::nullopt); }), testing::HasSubstr("is empty"));
  EXPECT_THAT(error_of([&] { GRUCell(3, 4).forward(zeros({2, 3}), zeros({3, 4})); }),
              testing::HasSubstr("GRUCell: hx [3,4] should be [2,4]"));
  EXPECT_THROW(LSTM(LSTMOptions{.input_size = 5, .hidden_size = 0}), Error);
}

TEST(Modules, EncoderLayersStartAsCopiesAndErrorsNameTheProblem) {
  TransformerEncoder encoder(TransformerEncoderOptions{{8, 2, 16}, 3});
  const auto state = encoder.state_dict();
  EXPECT_TRUE(equal(state.at("layers.0.linear1.weight"), state.at("layers.2.linear1.weight")));
  EXPECT_FALSE(state.at("layers.0.linear1.weight").impl() == state.at("layers.1.linear1.weight").impl());
  MultiheadAttention mha(8, 2);
  EXPECT_THROW(mha.forward(zeros({3, 2, 6}), zeros({3, 2, 6}), zeros({3, 2, 6})), Error);  // wrong embed_dim
  EXPECT_THROW(mha.forward(zeros({3, 2, 8}), zeros({4, 2, 8}), zeros({4, 2, 8}), zeros({2, 3}) > 0), Error);
  EXPECT_THROW(mha.forward(zeros({3, 2, 8}), zeros({3, 2, 8}), zeros({3, 2, 8}), {}, true, zeros({2, 2})), Error);
  EXPECT_THROW(MultiheadAttention(8, 3), Error);
  EXPECT_THROW(TransformerEncoderLayer(TransformerEncoderLayerOptions{8, 2, 16, 0.1, "tanh"}), Error);
}

}  // namespace
}  // namespace tg::nn
