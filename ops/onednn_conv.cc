// tapegrad/ops/onednn_conv.cc: float32 convolution forward, backward-data and backward-weights
// through oneDNN. Note [oneDNN primitive cache]: building a primitive (choosing and JIT-compiling
// a kernel) costs far more than running it on MNIST-sized tensors, so each (kind, shapes, params)
// gets its primitive built once and kept in a process-wide map. Tensors stay in tapegrad's plain
// NCHW / OIHW layout; the scratchpad is allocated per call, so concurrent calls from several
// threads (each with its own stream) never share memory.
#include "ops/internal/onednn_conv.h"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "oneapi/dnnl/dnnl.hpp"

namespace tg::ops::onednn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

enum class Kind { kForward, kBackwardData, kBackwardWeights };

struct Geometry {
  memory::dims src, weights, dst, strides, dilates, pad_l, pad_r;
  bool grouped;
};

Geometry geometry(const Shape& in, const Shape& w, const Conv2dParams& p) {
  const Shape out = conv2d_output_shape(in, w, p);
  const int64_t eff_kh = (w[2] - 1) * p.dilation_h + 1, eff_kw = (w[3] - 1) * p.dilation_w + 1;
  Geometry g;
  g.src = {in[0], in[1], in[2], in[3]};
  g.dst = {out[0], out[1], out[2], out[3]};
  g.grouped = p.groups > 1;
  g.weights = g.grouped ? memory::dims{p.groups, w[0] / p.groups, w[1], w[2], w[3]}
                        : memory::dims{w[0], w[1], w[2], w[3]};
  g.strides = {p.stride_h, p.stride_w};
  g.dilates = {p.dilation_h - 1, p.dilation_w - 1};  // oneDNN counts the gaps
  g.pad_l = {p.pad_h, p.pad_w};
  // The right padding that makes oneDNN's output size equal ours; negative when floor division
  // drops input rows.
  g.pad_r = {(out[2] - 1) * p.stride_h + eff_kh - in[2] - p.pad_h, (out[3] - 1) * p.stride_w + eff_kw - in[3] - p.pad_w};
  return g;
}

memory::desc plain(const memory::dims& dims, Tag tag) { return memory::desc(dims, memory::data_type::f32, tag); }
Tag weights_tag(const Geometry& g) { return g.grouped ? Tag::goihw : Tag::oihw; }

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Geometry& g, bool bias) {
  const dnnl::convolution_forward::desc d(
      dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, plain(g.src, Tag::nchw),
      plain(g.weights, weights_tag(g)), bias ? plain({g.dst[1]}, Tag::x) : memory::desc(), plain(g.dst, Tag::nchw),
      g.strides, g.dilates, g.pad_l, g.pad_r);
  return dnnl::convolution_forward::primitive_desc(d, user_scratchpad(), engine());
}

struct Entry {
  dnnl::primitive primitive;
  memory::desc scratchpad;
};

using Key = std::tuple<Kind, bool, memory::dims, memory::dims, memory::dims, memory::dims, memory::dims, memory::dims>;

std::mutex& cache_mutex() {
  static auto* mu = new std::mutex();
  return *mu;
}
std::map<Key, Entry>& cache() {
  static auto* c = new std::map<Key, Entry>();
  return *c;
}

const Entry& cached(Kind kind, const Geometry& g, bool bias) {
  const Key key{kind, bias, g.src, g.weights, g.strides, g.dilates, g.pad_l, g.pad_r};
  std::lock_guard<std::mutex> lock(cache_mutex());
  std::map<Key, Entry>* cache = &tg::ops::onednn::cache();
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  Entry e;
  const auto fwd = forward_pd(g, bias);
  if (kind == Kind::kForward) {
    e = {dnnl::convolution_forward(fwd), fwd.scratchpad_desc()};
  } else if (kind == Kind::kBackwardData) {
    const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, plain(g.src, Tag::nchw),
                                                  plain(g.weights, weights_tag(g)), plain(g.dst, Tag::nchw), g.strides,
                                                  g.dilates, g.pad_l, g.pad_r);
    const dnnl::convolution_backward_data::primitive_desc pd(d, user_scratchpad(), engine(), fwd);
    e = {dnnl::convolution_backward_data(pd), pd.scratchpad_desc()};
  } else {
    const dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, plain(g.src, Tag::nchw),
                                                     plain(g.weights, weights_tag(g)), plain(g.dst, Tag::nchw),
                                                     g.strides, g.dilates, g.pad_l, g.pad_r);
    const dnnl::convolution_backward_weights::primitive_desc pd(d, user_scratchpad(), engine(), fwd);
    e = {dnnl::convolution_backward_weights(pd), pd.scratchpad_desc()};
  }
  return cache->emplace(key, std::move(e)).first->second;
}

memory wrap(const memory::dims& dims, Tag tag, const Array& a) {
  return memory(plain(dims, tag), engine(), a.raw_data());
}

void run(const Entry& e, std::unordered_map<int, memory> args) {
  Array scratch = Array::empty({static_cast<int64_t>((e.scratchpad.get_size() + 3) / 4)}, kFloat32);
  args.insert({DNNL_ARG_SCRATCHPAD, memory(e.scratchpad, engine(), scratch.raw_data())});
  e.primitive.execute(stream(), args);
  stream().wait();
}

}  // namespace

bool conv2d_supported(const Shape& input, const Shape& weight, const Conv2dParams&) {
  // Every geometry conv2d_output_shape accepts (oneDNN takes the negative right padding that
  // floor division implies, checked by ops/conv_test) except empty tensors, which the reference
  // path returns directly.
  for (const Shape* s : {&input, &weight})
    for (int64_t d : *s)
      if (d == 0) return false;
  return true;
}

Array conv2d(const Array& input_in, const Array& weight_in, const Array& bias_in, const Conv2dParams& p) {
  const Geometry g = geometry(input_in.shape(), weight_in.shape(), p);
  const Array input = input_in.contiguous(), weight = weight_in.contiguous();
  const bool has_bias = bias_in.defined();
  Array out = Array::empty({g.dst[0], g.dst[1], g.dst[2], g.dst[3]}, kFloat32);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(g.src, Tag::nchw, input)},
                                       {DNNL_ARG_WEIGHTS, wrap(g.weights, weights_tag(g), weight)},
                                       {DNNL_ARG_DST, wrap(g.dst, Tag::nchw, out)}};
  Array bias;
  if (has_bias) {
    bias = bias_in.contiguous();
    args.insert({DNNL_ARG_BIAS, wrap({g.dst[1]}, Tag::x, bias)});
  }
  run(cached(Kind::kForward, g, has_bias), std::move(args));
  return out;
}

Array conv2d_backward_input(const Array& grad_out_in, const Array& weight_in, const Shape& input_shape,
                            const Conv2dParams& p) {
  const Geometry g = geometry(input_shape, weight_in.shape(), p);
  const Array grad_out = grad_out_in.contiguous(), weight = weight_in.contiguous();
  Array grad_in = Array::empty(input_shape, kFloat32);
  run(cached(Kind::kBackwardData, g, false), {{DNNL_ARG_DIFF_DST, wrap(g.dst, Tag::nchw, grad_out)},
                                              {DNNL_ARG_WEIGHTS, wrap(g.weights, weights_tag(g), weight)},
                                              {DNNL_ARG_DIFF_SRC, wrap(g.src, Tag::nchw, grad_in)}});
  return grad_in;
}

Array conv2d_backward_weight(const Array& input_in, const Array& grad_out_in, const Shape& weight_shape,
                             const Conv2dParams& p) {
  const Geometry g = geometry(input_in.shape(), weight_shape, p);
  const Array input = input_in.contiguous(), grad_out = grad_out_in.contiguous();
  Array grad_w = Array::empty(weight_shape, kFloat32);
  run(cached(Kind::kBackwardWeights, g, false), {{DNNL_ARG_SRC, wrap(g.src, Tag::nchw, input)},
                                                 {DNNL_ARG_DIFF_DST, wrap(g.dst, Tag::nchw, grad_out)},
                                                 {DNNL_ARG_DIFF_WEIGHTS, wrap(g.weights, weights_tag(g), grad_w)}});
  return grad_w;
}

}  // namespace tg::ops::onednn

namespace tg::ops {

int64_t fast_conv_primitives_built() {
  std::lock_guard<std::mutex> lock(onednn::cache_mutex());
  return static_cast<int64_t>(onednn::cache().size());
}

}  // namespace tg::ops
