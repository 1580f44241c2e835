// tapegrad/ops/lstm_layer.cc: see lstm_layer.h. The activations are the vector kernels' sigmoid and
// tanh, as in ops/lstm_cell.cc (the values are the per-step rows' to float rounding).
#include "ops/lstm_layer.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/blas.h"
#include "ops/internal/strided_loop.h"
#include "ops/internal/vector_kernels.h"
#include "ops/parallel.h"

namespace tg::ops {

namespace {

// The cell on one row of `width` units: z holds the four gates' pre-activations for them (i, f, g,
// o, `width` each, without the bias, which `bias` adds: 4 * width values), c the cell state
// (updated), h_out the new hidden state; tanh_c is scratch of `width`.
template <typename T>
void cell_row(T* z, const T* bias, T* c, T* h_out, T* tanh_c, int64_t width) {
  const auto unary = internal::vector_kernels<T>().unary;
  if (bias != nullptr)
    for (int64_t j = 0; j < 4 * width; ++j) z[j] += bias[j];
  unary(UnaryOp::kSigmoid, z, z, 2 * width);  // i, f
  unary(UnaryOp::kTanh, z + 2 * width, z + 2 * width, width);
  unary(UnaryOp::kSigmoid, z + 3 * width, z + 3 * width, width);
  for (int64_t j = 0; j < width; ++j) c[j] = z[width + j] * c[j] + z[j] * z[2 * width + j];
  unary(UnaryOp::kTanh, c, tanh_c, width);
  for (int64_t j = 0; j < width; ++j) h_out[j] = z[3 * width + j] * tanh_c[j];
}

// Note [LSTM layer by units]: a step's gates for hidden units [u0, u1) need x_t, h_{t-1} and the
// rows of the weights for those units (in each of the four gates), and give h_t and c_t for those
// units alone. So each thread owns a slice of the units for the whole sequence: it packs its rows
// of [w | r] once (contiguous, 1/threads of them, staying in its own cache), and per step runs one
// single-threaded GEMM of [x_t | h_{t-1}] by them and the cell for its slice, then waits at one
// barrier for the others' slices of h_t. No [T, B, 4H] projection is written or read back (it
// missed the cache on every row), and a step costs one barrier instead of the two fork/joins of a
// threaded GEMM followed by threaded rows. From batch 32 the rows are also packed, once, in the
// layout oneDNN's kernel reads (Note [Repeated products] in ops/blas.h): batch-64 throughput of
// the lstm_lm workload imported from ONNX went from 1,480 to 1,750 sequences/s. A small batch is
// the exception: per step the GEMM is a matrix-vector product that streams its weights from cache
// (about 80 GB/s here), so the input projections of all steps go first as one GEMM (xw, [T, B,
// 4H] in the weights' gate order) and a step streams only r. Not in deterministic mode (the
// GEMM's shape, and so its rounding, depends on the thread count there).
template <typename T>
void run_by_units(const Array& x, const T* w, const T* r, const T* bias, const T* h0, int64_t h, bool reverse,
                  const GateBlocks& blocks, const T* xw, int threads, LstmLayerResult& out) {
  const int64_t steps = x.size(0), batch = x.size(1), f = xw ? 0 : x.size(2), k = f + h;
  const int64_t step_stride = x.strides()[0], row_stride = x.strides()[1];
  const T* xs = x.data<T>();
  T *c = out.c.data<T>(), *y = out.y.data<T>();
#pragma omp parallel num_threads(threads)
  {
    const int64_t id = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t u0 = h * id / n, width = h * (id + 1) / n - u0;
    std::vector<T> rows(4 * width * k), slice_bias(bias ? 4 * width : 0), in(batch * k), gates(batch * 4 * width),
        tanh_c(width);
    for (int64_t g = 0; g < 4; ++g) {  // rows g*h + u0 .. of [w | r], gate by gate
      for (int64_t j = 0; j < width; ++j) {
        const int64_t src = blocks[g] * h + u0 + j;
        T* dst = rows.data() + (g * width + j) * k;
        if (f > 0) std::memcpy(dst, w + src * f, f * sizeof(T));
        std::memcpy(dst + f, r + src * h, h * sizeof(T));
        if (bias) slice_bias[g * width + j] = bias[src];
      }
    }
    RepeatedGemm<T> gates_of_in(batch, 4 * width, k, in.data(), k, rows.data(), k, gates.data(), 4 * width);
    const T* h_prev = h0;
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t t = reverse ? steps - 1 - step : step;
      for (int64_t b = 0; b < batch; ++b) {
        if (f > 0) std::memcpy(in.data() + b * k, xs + t * step_stride + b * row_stride, f * sizeof(T));
        std::memcpy(in.data() + b * k + f, h_prev + b * h, h * sizeof(T));
      }
      gates_of_in.run();
      T* h_out = y + t * batch * h;
      for (int64_t b = 0; b < batch; ++b) {
        T* z = gates.data() + b * 4 * width;
        if (xw != nullptr) {
          const T* xb = xw + (t * batch + b) * 4 * h + u0;
          for (int64_t g = 0; g < 4; ++g)
            for (int64_t j = 0; j < width; ++j) z[g * width + j] += xb[blocks[g] * h + j];
        }
        cell_row(z, bias ? slice_bias.data() : nullptr, c + b * h + u0, h_out + b * h + u0, tanh_c.data(), width);
      }
      h_prev = h_out;
#pragma omp barrier  // h_t complete
    }
  }
}

// Below this batch the input projections go first (Note [LSTM layer by units]): measured on the
// lstm_lm workload's layers (H 256), batch 1 took 1.8 instead of 2.0 ms, batch 64 lost 6 %.
constexpr int64_t kProjectFirstBatch = 8;

// x [T, B, F] w^T as [T * B, 4H], one (threaded) GEMM.
Array project(const Array& x_in, const Array& w, int64_t h) {
  const int64_t rows = x_in.size(0) * x_in.size(1), f = x_in.size(2);
  const Array x = x_in.contiguous();
  Array xw = Array::empty({rows, 4 * h}, x.dtype());
  dispatch_floating(x.dtype(), "lstm_layer", [&](auto tag) {
    using T = decltype(tag);
    gemm(false, true, rows, 4 * h, f, T(1), x.data<T>(), f, w.data<T>(), f, T(0), xw.data<T>(), 4 * h);
  });
  return xw;
}

// `a`'s blocks of h rows in PyTorch's gate order (a itself when they are).
Array in_pytorch_order(const Array& a, int64_t h, const GateBlocks& blocks) {
  if (!a.defined() || blocks == kPyTorchGates) return a;
  Array out = Array::empty(a.shape(), a.dtype());
  for (int64_t g = 0; g < 4; ++g) copy_into(out.slice(0, g * h, (g + 1) * h), a.slice(0, blocks[g] * h, (blocks[g] + 1) * h));
  return out;
}

// One thread, or deterministic mode: all steps' input projections as one GEMM, then per step the
// recurrent GEMM and the cell, rows in parallel when the step is large. w, r and bias in PyTorch's
// gate order.
template <typename T>
void run_by_steps(const Array& x_in, const Array& w, const T* r, const T* bias, const T* h0, int64_t h, bool reverse,
                  LstmLayerResult& out) {
  const int64_t steps = x_in.size(0), batch = x_in.size(1);
  const Array xw_a = project(x_in, w, h);
  Array gates_a = Array::empty({batch, 4 * h}, x_in.dtype()), tanh_a = Array::empty({batch, h}, x_in.dtype());
  T *gates = gates_a.data<T>(), *tc = tanh_a.data<T>(), *c = out.c.data<T>(), *y = out.y.data<T>();
  const T* xw = xw_a.data<T>();
  const T* h_prev = h0;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t t = reverse ? steps - 1 - step : step;
    gemm(false, true, batch, 4 * h, h, T(1), h_prev, h, r, h, T(0), gates, 4 * h);  // h r^T
    T* h_out = y + t * batch * h;
    auto row = [&](int64_t b) {
      T* z = gates + b * 4 * h;
      const T* xb = xw + (t * batch + b) * 4 * h;
      for (int64_t j = 0; j < 4 * h; ++j) z[j] += xb[j];
      cell_row(z, bias, c + b * h, h_out + b * h, tc + b * h, h);
    };
    if (batch * 4 * h >= internal::kParallelGrain) {
      refresh_team_size();
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < batch; ++b) row(b);
    } else {
      for (int64_t b = 0; b < batch; ++b) row(b);
    }
    h_prev = h_out;
  }
}

}  // namespace

LstmLayerResult lstm_layer(const Array& x_in, const Array& w_in, const Array& r_in, const Array& bias_in,
                           const Array& h0_in, const Array& c0_in, bool reverse, GateBlocks gates) {
  GateBlocks sorted = gates;
  std::sort(sorted.begin(), sorted.end());
  TG_CHECK(sorted == kPyTorchGates, "lstm_layer: gate blocks must be a permutation of 0..3");
  TG_CHECK(x_in.dim() == 3 && w_in.dim() == 2 && r_in.dim() == 2 && r_in.size(0) == 4 * r_in.size(1) &&
               w_in.size(0) == r_in.size(0) && w_in.size(1) == x_in.size(2),
           "lstm_layer: input ", shape_str(x_in.shape()), " [T, B, F], input weight ", shape_str(w_in.shape()),
           " [4H, F] and recurrent weight ", shape_str(r_in.shape()), " [4H, H] do not fit");
  const int64_t steps = x_in.size(0), batch = x_in.size(1), h = r_in.size(1);
  const Shape state{batch, h};
  TG_CHECK(h0_in.shape() == state && c0_in.shape() == state, "lstm_layer: initial states ", shape_str(h0_in.shape()),
           " and ", shape_str(c0_in.shape()), " should be ", shape_str(state));
  TG_CHECK(!bias_in.defined() || bias_in.shape() == Shape{4 * h}, "lstm_layer: bias ", shape_str(bias_in.shape()),
           " should be ", shape_str({4 * h}));
  for (const Array* a : {&w_in, &r_in, &bias_in, &h0_in, &c0_in}) {
    TG_CHECK(!a->defined() || a->dtype() == x_in.dtype(), "lstm_layer: dtypes differ (", dtype_name(x_in.dtype()),
             ", ", dtype_name(a->dtype()), ")");
  }
  // x's steps and rows may be strided (a batch-major [B, T, F] input viewed as [T, B, F]).
  const Array x = x_in.strides()[2] == 1 ? x_in : x_in.contiguous();
  const Array w = w_in.contiguous(), r = r_in.contiguous(), h0 = h0_in.contiguous();
  const Array bias = bias_in.defined() ? bias_in.contiguous() : Array();
  LstmLayerResult out{Array::empty({steps, batch, h}, x.dtype()), Array::empty(state, x.dtype()),
                      Array::empty(state, x.dtype())};
  copy_into(out.c, c0_in);  // updated in place step by step
  if (steps == 0 || batch == 0) {
    out.h = h0.clone();
    return out;
  }
  refresh_team_size();
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  dispatch_floating(x.dtype(), "lstm_layer", [&](auto tag) {
    using T = decltype(tag);
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    if (threads > 1 && !deterministic() && h >= 16 * threads) {
      Array xw;  // Note [LSTM layer by units]: the projections first for a small batch
      if (batch < kProjectFirstBatch) xw = project(x, w, h);
      run_by_units<T>(x, w.data<T>(), r.data<T>(), b, h0.data<T>(), h, reverse, gates,
                      xw.defined() ? xw.data<T>() : nullptr, threads, out);
    } else {
      const Array ordered_bias = in_pytorch_order(bias, h, gates);
      run_by_steps<T>(x, in_pytorch_order(w, h, gates), in_pytorch_order(r, h, gates).data<T>(),
                      bias.defined() ? ordered_bias.data<T>() : nullptr, h0.data<T>(), h, reverse, out);
    }
  });
  std::memcpy(out.h.raw_data(), out.y.data<char>() + (reverse ? 0 : (steps - 1) * batch * h * dtype_size(x.dtype())),
              batch * h * dtype_size(x.dtype()));
  return out;
}

}  // namespace tg::ops
