// tapegrad/ops/lstm_layer_test.cc: ops::lstm_layer against a double-precision step-by-step
// reference, on each of its paths (Note [LSTM layer by units]: by units with the projections first
// for a small batch or fused for a larger one; by steps on one thread and in deterministic mode),
// forward and reverse, PyTorch's and ONNX's gate orders, a strided (batch-major) input, float64.
#include "ops/lstm_layer.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/parallel.h"
#include "ops/testing/error_of.h"
#include "ops/testing/random_array.h"

namespace tg::ops {
namespace {

using testing::random_array;

double at(const Array& a, int64_t i, int64_t j) { return a.data<float>()[i * a.strides()[0] + j * a.strides()[1]]; }
double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

// y [T, B, H] flattened, then h and c, in double.
std::vector<double> reference(const Array& x, const Array& w, const Array& r, const Array& bias, const Array& h0,
                              const Array& c0, bool reverse, GateBlocks blocks) {
  const int64_t steps = x.size(0), batch = x.size(1), f = x.size(2), hs = r.size(1);
  std::vector<double> y(steps * batch * hs), h(batch * hs), c(batch * hs);
  for (int64_t i = 0; i < batch * hs; ++i) {
    h[i] = h0.data<float>()[i];
    c[i] = c0.data<float>()[i];
  }
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    std::vector<double> next(batch * hs);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t u = 0; u < hs; ++u) {
        double z[4];
        for (int g = 0; g < 4; ++g) {
          const int64_t row = blocks[g] * hs + u;
          double v = bias.defined() ? bias.data<float>()[row] : 0;
          for (int64_t k = 0; k < f; ++k)
            v += x.data<float>()[t * x.strides()[0] + b * x.strides()[1] + k * x.strides()[2]] * at(w, row, k);
          for (int64_t k = 0; k < hs; ++k) v += h[b * hs + k] * at(r, row, k);
          z[g] = v;
        }
        double& cell = c[b * hs + u];
        cell = sigmoid(z[1]) * cell + sigmoid(z[0]) * std::tanh(z[2]);
        next[b * hs + u] = sigmoid(z[3]) * std::tanh(cell);
        y[(t * batch + b) * hs + u] = next[b * hs + u];
      }
    }
    h = next;
  }
  y.insert(y.end(), h.begin(), h.end());
  y.insert(y.end(), c.begin(), c.end());
  return y;
}

double max_gap(const LstmLayerResult& got, const std::vector<double>& want) {
  std::vector<double> values;
  for (const Array* a : {&got.y, &got.h, &got.c})
    for (int64_t i = 0; i < a->numel(); ++i)
      values.push_back(a->dtype() == kFloat32 ? a->data<float>()[i] : a->data<double>()[i]);
  EXPECT_EQ(values.size(), want.size());
  double gap = 0;
  for (size_t i = 0; i < values.size() && i < want.size(); ++i) gap = std::max(gap, std::abs(values[i] - want[i]));
  return gap;
}

struct Path {
  const char* name;
  int threads;
  bool deterministic;
};

TEST(LstmLayer, EveryPathMatchesTheReference) {
  const int threads = get_num_threads();
  const int64_t f = 7, hs = 40, steps = 5;  // hs >= 16 per thread: the by-units path can run
  const Array w = random_array({4 * hs, f}, 1), r = random_array({4 * hs, hs}, 2), bias = random_array({4 * hs}, 3);
  for (const Path& path : {Path{"by units", 2, false}, Path{"one thread", 1, false}, Path{"deterministic", 2, true}}) {
    set_num_threads(path.threads);
    set_deterministic(path.deterministic);
    // Below and above the projections-first batch; 33: a step's product packed (ops/blas.h).
    for (int64_t batch : {1, 3, 9, 12, 33}) {
      const Array batch_major = random_array({batch, steps, f}, 4 + static_cast<uint32_t>(batch));
      const Array x = batch_major.transpose(0, 1);  // [T, B, F], strided
      const Array h0 = random_array({batch, hs}, 5), c0 = random_array({batch, hs}, 6);
      for (bool reverse : {false, true}) {
        for (GateBlocks blocks : {kPyTorchGates, kOnnxGates}) {
          for (bool with_bias : {true, false}) {
            const Array b = with_bias ? bias : Array();
            SCOPED_TRACE(std::string(path.name) + " batch " + std::to_string(batch) + (reverse ? " reverse" : "") +
                         (blocks == kOnnxGates ? " onnx gates" : "") + (with_bias ? "" : " no bias"));
            const LstmLayerResult got = lstm_layer(x, w, r, b, h0, c0, reverse, blocks);
            EXPECT_LT(max_gap(got, reference(x, w, r, b, h0, c0, reverse, blocks)), 2e-5);
          }
        }
      }
    }
  }
  set_deterministic(false);
  set_num_threads(threads);
}

TEST(LstmLayer, Float64AndEmptyAndErrors) {
  const Array x = random_array({3, 2, 4}, 1), w = random_array({64, 4}, 2), r = random_array({64, 16}, 3);
  const Array h0 = random_array({2, 16}, 4), c0 = random_array({2, 16}, 5);
  const LstmLayerResult single = lstm_layer(x, w, r, Array(), h0, c0, false);
  const LstmLayerResult twice = lstm_layer(x.to(kFloat64), w.to(kFloat64), r.to(kFloat64), Array(), h0.to(kFloat64),
                                           c0.to(kFloat64), false);
  EXPECT_EQ(twice.y.dtype(), kFloat64);
  EXPECT_LT(max_gap(twice, reference(x, w, r, Array(), h0, c0, false, kPyTorchGates)), 1e-12);
  EXPECT_LT(max_gap(single, reference(x, w, r, Array(), h0, c0, false, kPyTorchGates)), 2e-5);

  const LstmLayerResult none = lstm_layer(random_array({0, 2, 4}, 6), w, r, Array(), h0, c0, false);
  EXPECT_EQ(none.y.shape(), Shape({0, 2, 16}));
  EXPECT_EQ(none.h.data<float>()[3], h0.data<float>()[3]);
  EXPECT_EQ(none.c.data<float>()[3], c0.data<float>()[3]);

  EXPECT_NE(error_of([&] { lstm_layer(x, random_array({64, 5}, 7), r, Array(), h0, c0, false); }).find("do not fit"),
            std::string::npos);
  EXPECT_NE(error_of([&] { lstm_layer(x, w, r, random_array({63}, 7), h0, c0, false); }).find("bias [63]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { lstm_layer(x, w, r, Array(), h0, c0, false, {0, 1, 1, 3}); }).find("permutation"),
            std::string::npos);
}

}  // namespace
}  // namespace tg::ops
