// tapegrad/ops/onednn_conv.cc: float32 convolution forward, backward-data and backward-weights
// through oneDNN. Each (kind, shapes, params) gets its primitive (and the reorders around it)
// built once (Note [oneDNN primitive cache] in ops/internal/onednn.h), for at most
// kMaxPrimitives geometries: past that, a program that convolves ever new shapes gets each one
// built for its call alone (slower, same result) instead of a cache growing without bound.
// Activations in the default NCHW order are reordered to and from the blocked layouts oneDNN's
// direct kernels use; channels-last ones (NHWC, Note [Channels last] in ops/array.cc) go to its
// NHWC kernels as they are, and outputs keep the format of the activation they come from. Weights
// stay OIHW and are reordered per call, or kept packed for inference (Note [Packed weights] in
// ops/internal/onednn.h); temporaries and the scratchpad are allocated per call. A forward's
// epilogue (residual sum, ReLU: Note [Fused convolution] in ops/conv.h) runs as oneDNN post-ops
// on the kernel's registers.
#include "ops/internal/onednn_conv.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <tuple>

#include <omp.h>

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/internal/onednn.h"

namespace tg::ops {
struct KernelLayout {
  dnnl::memory::desc desc;
  std::string key;  // layout_key(desc), for cache lookups
};
}  // namespace tg::ops

namespace tg::ops::onednn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// kForwardInKernelLayout: the forward of Note [Kernel layout] (ops/conv.h), the source arriving in
// a given layout, the kernel choosing its own for source and destination.
enum class Kind { kForward, kBackwardData, kBackwardWeights, kForwardInKernelLayout };

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
memory::desc any(const memory::dims& dims) { return plain(dims, Tag::any); }
Tag weights_tag(const Geometry& g) { return g.grouped ? Tag::goihw : Tag::oihw; }

// The activations' layout for the kernel: for NCHW ones it is left to oneDNN ("any"), which then
// picks its direct JIT kernels and their blocked layouts (nChw16c...) instead of an im2col GEMM,
// with reorders at the boundary; channels-last ones are NHWC on both sides (no reorder).
memory::desc activation(const memory::dims& dims, bool channels_last) {
  return channels_last ? plain(dims, Tag::nhwc) : any(dims);
}
Tag user_tag(bool channels_last) { return channels_last ? Tag::nhwc : Tag::nchw; }

// What the forward does after the convolution and its bias: add what the destination holds (the
// residual, copied there first), then ReLU.
struct Epilogue {
  bool sum = false, relu = false;
};

dnnl::primitive_attr attributes(const Epilogue& e) {
  dnnl::primitive_attr attr = user_scratchpad();
  dnnl::post_ops post;
  if (e.sum) post.append_sum(1.f);
  if (e.relu) post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  attr.set_post_ops(post);
  return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Geometry& g, bool bias, const memory::desc& src,
                                                     const memory::desc& dst, const Epilogue& e = {}) {
  const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          src, any(g.weights), bias ? plain({g.dst[1]}, Tag::x) : memory::desc(),
                                          dst, g.strides, g.dilates, g.pad_l, g.pad_r);
  return dnnl::convolution_forward::primitive_desc(d, attributes(e), engine());
}
dnnl::convolution_forward::primitive_desc forward_pd(const Geometry& g, bool bias, bool last, const Epilogue& e = {}) {
  return forward_pd(g, bias, activation(g.src, last), activation(g.dst, last), e);
}

// A layout as a string of its defining fields (a cache key; the descriptor's raw bytes may hold
// uninitialised padding).
std::string layout_key(const memory::desc& desc) {
  const dnnl_memory_desc_t& d = desc.data;
  std::string key = std::to_string(d.ndims) + ":" + std::to_string(d.data_type) + ":" + std::to_string(d.format_kind) +
                    ":" + std::to_string(d.offset0);
  auto dims = [&](const dnnl_dims_t& v, int n) {
    key += "|";
    for (int i = 0; i < n; ++i) key += std::to_string(v[i]) + ",";
  };
  dims(d.dims, d.ndims);
  dims(d.padded_dims, d.ndims);
  dims(d.padded_offsets, d.ndims);
  if (d.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    dims(b.strides, d.ndims);
    dims(b.inner_blks, b.inner_nblks);
    dims(b.inner_idxs, b.inner_nblks);
  }
  return key;
}

std::shared_ptr<const KernelLayout> make_layout(const memory::desc& desc) {
  return std::make_shared<KernelLayout>(KernelLayout{desc, layout_key(desc)});
}

// One argument of a primitive: the plain layout tapegrad holds, the layout the kernel wants, and
// the reorder between them when they differ (user -> kernel for inputs, kernel -> user for outputs,
// both ways for an output the kernel adds to: `preload`).
struct ArgPlan {
  int arg;
  memory::desc user, want;
  bool output;
  std::optional<dnnl::reorder> reorder, preload;
};

// The dnnl::memory objects of one call of an entry (each argument's user and kernel memory, the
// scratchpad, and the argument map naming them), created once and pointed at each call's buffers
// with set_data_handle: creating them per call was 6 % of a batch-1 forward. A call takes a set
// from its entry's pool and gives it back, so concurrent calls never share one.
struct Bindings {
  std::vector<dnnl::memory> user, kernel;  // by position in Entry::args; kernel only where reordered
  dnnl::memory scratchpad;
  std::unordered_map<int, dnnl::memory> args;
};

struct BindingPool {
  std::mutex mu;
  std::vector<std::unique_ptr<Bindings>> free;
};

struct Entry {
  dnnl::primitive primitive;
  memory::desc scratchpad;
  std::vector<ArgPlan> args;
  std::unique_ptr<BindingPool> pool = std::make_unique<BindingPool>();
  std::shared_ptr<const KernelLayout> dst_layout;  // kForwardInKernelLayout's output layout
};

ArgPlan plan(int arg, const memory::desc& user, const memory::desc& want, bool output, bool preload = false) {
  ArgPlan p{arg, user, want, output, std::nullopt, std::nullopt};
  if (user == want) return p;
  auto reorder = [](const memory::desc& from, const memory::desc& to) {
    return dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from, engine(), to));
  };
  p.reorder = output ? reorder(want, user) : reorder(user, want);
  if (output && preload) p.preload = reorder(user, want);
  return p;
}

// The last field: layout_key of the source for kForwardInKernelLayout, else empty.
using Key = std::tuple<Kind, bool, bool, bool, bool, memory::dims, memory::dims, memory::dims, memory::dims,
                       memory::dims, memory::dims, std::string>;

constexpr size_t kMaxPrimitives = 512;  // 3 kinds x thread counts x the shapes of a few models

PrimitiveCache<Key, Entry>& cache() {
  static auto* c = new PrimitiveCache<Key, Entry>(kMaxPrimitives);
  return *c;
}

// The primitive of `kind` for geometry g, its activations channels last when `last` (the
// epilogue applies to the forward only).
Entry build(Kind kind, const Geometry& g, bool bias, bool last, const Epilogue& e,
            const memory::desc* src_layout = nullptr) {
  const memory::desc src = plain(g.src, user_tag(last)), weights = plain(g.weights, weights_tag(g)),
                     dst = plain(g.dst, user_tag(last));
  if (kind == Kind::kForwardInKernelLayout) {
    // The destination is allocated in the kernel's layout: no reorder; a residual is put there by
    // the caller (Note [Kernel layout]).
    const auto fwd = forward_pd(g, bias, any(g.src), any(g.dst), e);
    std::vector<ArgPlan> args{plan(DNNL_ARG_SRC, *src_layout, fwd.src_desc(), false),
                              plan(DNNL_ARG_WEIGHTS, weights, fwd.weights_desc(), false),
                              plan(DNNL_ARG_DST, fwd.dst_desc(), fwd.dst_desc(), true)};
    if (bias) args.push_back(plan(DNNL_ARG_BIAS, plain({g.dst[1]}, Tag::x), fwd.bias_desc(), false));
    return {dnnl::convolution_forward(fwd), fwd.scratchpad_desc(), args, std::make_unique<BindingPool>(),
            make_layout(fwd.dst_desc())};
  }
  if (kind == Kind::kForward) {
    const auto fwd = forward_pd(g, bias, last, e);
    std::vector<ArgPlan> args{plan(DNNL_ARG_SRC, src, fwd.src_desc(), false),
                              plan(DNNL_ARG_WEIGHTS, weights, fwd.weights_desc(), false),
                              plan(DNNL_ARG_DST, dst, fwd.dst_desc(), true, /*preload=*/e.sum)};
    if (bias) args.push_back(plan(DNNL_ARG_BIAS, plain({g.dst[1]}, Tag::x), fwd.bias_desc(), false));
    return {dnnl::convolution_forward(fwd), fwd.scratchpad_desc(), args};
  }
  const auto fwd = forward_pd(g, bias, last);
  if (kind == Kind::kBackwardData) {
    const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, activation(g.src, last),
                                                  any(g.weights), activation(g.dst, last), g.strides, g.dilates,
                                                  g.pad_l, g.pad_r);
    const dnnl::convolution_backward_data::primitive_desc pd(d, user_scratchpad(), engine(), fwd);
    return {dnnl::convolution_backward_data(pd), pd.scratchpad_desc(),
            {plan(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), false),
             plan(DNNL_ARG_WEIGHTS, weights, pd.weights_desc(), false),
             plan(DNNL_ARG_DIFF_SRC, src, pd.diff_src_desc(), true)}};
  }
  const dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, activation(g.src, last),
                                                   any(g.weights), activation(g.dst, last), g.strides, g.dilates,
                                                   g.pad_l, g.pad_r);
  const dnnl::convolution_backward_weights::primitive_desc pd(d, user_scratchpad(), engine(), fwd);
  return {dnnl::convolution_backward_weights(pd), pd.scratchpad_desc(),
          {plan(DNNL_ARG_SRC, src, pd.src_desc(), false), plan(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), false),
           plan(DNNL_ARG_DIFF_WEIGHTS, weights, pd.diff_weights_desc(), true)}};
}

std::unique_ptr<Bindings> take_bindings(const Entry& e) {
  {
    std::lock_guard<std::mutex> lock(e.pool->mu);
    if (!e.pool->free.empty()) {
      std::unique_ptr<Bindings> b = std::move(e.pool->free.back());
      e.pool->free.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<Bindings>();
  for (const ArgPlan& p : e.args) {
    b->user.emplace_back(p.user, engine(), nullptr);
    b->kernel.push_back(p.reorder ? memory(p.want, engine(), nullptr) : memory());
    b->args.insert({p.arg, p.reorder ? b->kernel.back() : b->user.back()});
  }
  b->scratchpad = memory(e.scratchpad, engine(), nullptr);
  b->args.insert({DNNL_ARG_SCRATCHPAD, b->scratchpad});
  return b;
}

void give_bindings(const Entry& e, std::unique_ptr<Bindings> b) {
  std::lock_guard<std::mutex> lock(e.pool->mu);
  e.pool->free.push_back(std::move(b));
}

// Runs the primitive on tapegrad's plain arrays (by argument id), reordering where planned.
void run_entry(const Entry& e, const std::unordered_map<int, Array>& arrays, WeightPacking packing) {
  dnnl::stream& s = stream();
  std::unique_ptr<Bindings> b = take_bindings(e);
  std::vector<Array> temporaries;
  temporaries.reserve(e.args.size() + 1);
  for (size_t i = 0; i < e.args.size(); ++i) {
    const ArgPlan& p = e.args[i];
    const Array& array = arrays.at(p.arg);
    b->user[i].set_data_handle(array.raw_data());
    if (!p.reorder) continue;
    const bool packed = p.arg == DNNL_ARG_WEIGHTS && packing == WeightPacking::kCached;
    temporaries.push_back(packed ? packed_weights(array, p.user, p.want, *p.reorder) : buffer(p.want.get_size()));
    b->kernel[i].set_data_handle(temporaries.back().raw_data());
    if (p.output) {
      if (p.preload) p.preload->execute(s, b->user[i], b->kernel[i]);
    } else if (!packed) {
      p.reorder->execute(s, b->user[i], b->kernel[i]);
    }
  }
  temporaries.push_back(buffer(e.scratchpad.get_size()));
  b->scratchpad.set_data_handle(temporaries.back().raw_data());
  e.primitive.execute(s, b->args);
  for (size_t i = 0; i < e.args.size(); ++i)
    if (e.args[i].output && e.args[i].reorder) e.args[i].reorder->execute(s, b->kernel[i], b->user[i]);
  s.wait();
  give_bindings(e, std::move(b));
}

// The cached primitive of `kind` for geometry g, or, when the cache is full, one built into
// `local` for this call.
const Entry& entry_for(Kind kind, const Geometry& g, bool bias, bool last, const Epilogue& epilogue,
                       std::optional<Entry>& local, const KernelLayout* src_layout = nullptr) {
  const Key key{kind,   bias,      last,      epilogue.sum, epilogue.relu, g.src, g.weights, g.strides, g.dilates,
                g.pad_l, g.pad_r, src_layout ? src_layout->key : std::string()};
  auto build_it = [&] { return build(kind, g, bias, last, epilogue, src_layout ? &src_layout->desc : nullptr); };
  if (const Entry* e = cache().get(key, build_it)) return *e;
  return local.emplace(build_it());
}

// Runs the convolution `kind` of geometry g.
void run(Kind kind, const Geometry& g, bool bias, bool last, const std::unordered_map<int, Array>& arrays,
         const Epilogue& epilogue = {}, WeightPacking packing = WeightPacking::kPerCall) {
  std::optional<Entry> local;
  run_entry(entry_for(kind, g, bias, last, epilogue, local), arrays, packing);
}

MemoryFormat format_of(bool last) { return last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous; }

// Work too small to share: forward convolutions under kSerialConvFlops and reorders under
// kSerialReorderBytes run on the calling thread alone (their primitives are built for one thread:
// the cache keys by thread count). Measured with ONEDNN_VERBOSE on batch-1 ResNet-8 (2 threads vs
// 1): a 0.2 MFLOP stem or 1x1 projection 4.5-4.7 us vs 3.2-4.3 us, a 1.8 MFLOP strided 3x3 11.6 vs
// 13.4 us; a 12 KB reorder 3.4 vs 1.6 us.
constexpr double kSerialConvFlops = 1.5e6;
constexpr size_t kSerialReorderBytes = 256 << 10;

class SerialGuard {
 public:
  explicit SerialGuard(bool serial) {
    if (!serial || omp_in_parallel()) return;
    previous_ = omp_get_max_threads();
    if (previous_ > 1) omp_set_num_threads(1);
  }
  ~SerialGuard() {
    if (previous_ > 1) omp_set_num_threads(previous_);
  }
  SerialGuard(const SerialGuard&) = delete;
  SerialGuard& operator=(const SerialGuard&) = delete;

 private:
  int previous_ = 0;
};

bool small_forward(const Geometry& g) {
  const double flops = 2.0 * static_cast<double>(g.dst[0] * g.dst[1] * g.dst[2] * g.dst[3]) *
                       static_cast<double>(g.src[1] / (g.grouped ? g.weights[0] : 1)) *
                       static_cast<double>(g.weights[g.grouped ? 3 : 2] * g.weights[g.grouped ? 4 : 3]);
  return flops < kSerialConvFlops;
}

// The elements of `a` (dense in some layout from its offset on) as a 1-D float32 array.
Array flat_bytes(const Array& a, int64_t elements) {
  return Array(a.storage(), {elements}, {1}, a.offset(), kFloat32);
}

PrimitiveCache<std::pair<std::string, std::string>, dnnl::reorder>& reorders() {
  static auto* c = new PrimitiveCache<std::pair<std::string, std::string>, dnnl::reorder>(kMaxPrimitives);
  return *c;
}

// Writes the values held in layout `from` (in from_bytes) into to_bytes in layout `to`.
void relayout(const KernelLayout& from, const Array& from_bytes, const KernelLayout& to, const Array& to_bytes) {
  if (from.desc == to.desc) {
    copy_into(to_bytes, from_bytes);
    return;
  }
  const SerialGuard small(to.desc.get_size() < kSerialReorderBytes);
  auto build = [&] { return dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from.desc, engine(), to.desc)); };
  const dnnl::reorder* r = reorders().get({from.key, to.key}, build);
  const dnnl::reorder local = r ? dnnl::reorder() : build();
  memory src(from.desc, engine(), from_bytes.raw_data()), dst(to.desc, engine(), to_bytes.raw_data());
  (r ? *r : local).execute(stream(), src, dst);
  stream().wait();
}

}  // namespace

KernelArray as_kernel_array(const Array& plain_in) {
  const bool last = is_channels_last(plain_in);
  const Array a = plain_in.contiguous(format_of(last));
  const Shape& d = a.shape();
  return {flat_bytes(a, a.numel()), d,
          make_layout(plain({d[0], d[1], d[2], d[3]}, user_tag(last)))};
}

namespace {
// Whether the convolution may write its output into the residual's own bytes: nothing else holds
// them (a shared storage could be read later or be the input itself), and they already are in the
// output's layout and size.
bool residual_reusable(const KernelArray& residual, const KernelArray& input, const KernelLayout& dst) {
  return residual.defined() && residual.bytes.storage().use_count() == 1 &&
         residual.bytes.storage() != input.bytes.storage() && residual.layout->desc == dst.desc &&
         residual.bytes.numel() * static_cast<int64_t>(sizeof(float)) == static_cast<int64_t>(dst.desc.get_size());
}
}  // namespace

KernelArray conv2d_in_kernel_layout(const KernelArray& input, const Array& weight_in, const Array& bias_in,
                                    const Conv2dParams& p, KernelArray residual, bool relu) {
  const Geometry g = geometry(input.shape, weight_in.shape(), p);
  const SerialGuard small(small_forward(g));
  const Epilogue epilogue{residual.defined(), relu};
  std::optional<Entry> local;
  const Entry& e = entry_for(Kind::kForwardInKernelLayout, g, bias_in.defined(), false, epilogue, local,
                             input.layout.get());
  const Shape shape = {g.dst[0], g.dst[1], g.dst[2], g.dst[3]};
  KernelArray out;
  if (residual_reusable(residual, input, *e.dst_layout)) {
    out = {std::move(residual.bytes), shape, e.dst_layout};  // the sum post-op adds to it in place
  } else {
    out = {buffer(e.dst_layout->desc.get_size()), shape, e.dst_layout};
    // The sum post-op adds to it.
    if (residual.defined()) relayout(*residual.layout, residual.bytes, *e.dst_layout, out.bytes);
  }
  std::unordered_map<int, Array> arrays{
      {DNNL_ARG_SRC, input.bytes}, {DNNL_ARG_WEIGHTS, weight_in.contiguous()}, {DNNL_ARG_DST, out.bytes}};
  if (bias_in.defined()) arrays.insert({DNNL_ARG_BIAS, bias_in.contiguous()});
  run_entry(e, arrays, WeightPacking::kCached);
  return out;
}

Array to_plain(const KernelArray& a, MemoryFormat format) {
  Array out = Array::empty(a.shape, kFloat32, format);
  const Shape& d = a.shape;
  relayout(*a.layout, a.bytes, *make_layout(plain({d[0], d[1], d[2], d[3]}, user_tag(format == MemoryFormat::ChannelsLast))),
           flat_bytes(out, out.numel()));
  return out;
}

bool conv2d_supported(const Shape& input, const Shape& weight, const Conv2dParams&) {
  // Every geometry conv2d_output_shape accepts (oneDNN takes the negative right padding that
  // floor division implies, checked by ops/conv_test) except empty tensors, which the reference
  // path returns directly.
  for (const Shape* s : {&input, &weight})
    for (int64_t d : *s)
      if (d == 0) return false;
  return true;
}

Array conv2d(const Array& input_in, const Array& weight_in, const Array& bias_in, const Conv2dParams& p,
             const ConvEpilogue& epilogue, WeightPacking packing) {
  const Geometry g = geometry(input_in.shape(), weight_in.shape(), p);
  const SerialGuard small(small_forward(g));
  const bool last = is_channels_last(input_in);
  Array out = Array::empty({g.dst[0], g.dst[1], g.dst[2], g.dst[3]}, kFloat32, format_of(last));
  if (epilogue.residual.defined()) copy_into(out, epilogue.residual);  // the sum post-op adds to it
  std::unordered_map<int, Array> arrays{{DNNL_ARG_SRC, input_in.contiguous(format_of(last))},
                                        {DNNL_ARG_WEIGHTS, weight_in.contiguous()},
                                        {DNNL_ARG_DST, out}};
  if (bias_in.defined()) arrays.insert({DNNL_ARG_BIAS, bias_in.contiguous()});
  run(Kind::kForward, g, bias_in.defined(), last, arrays, {epilogue.residual.defined(), epilogue.relu}, packing);
  return out;
}

Array conv2d_backward_input(const Array& grad_out, const Array& weight, const Shape& input_shape,
                            const Conv2dParams& p) {
  // The input's gradient takes the format of the output's gradient (that of the forward's input).
  const Geometry g = geometry(input_shape, weight.shape(), p);
  const bool last = is_channels_last(grad_out);
  Array grad_in = Array::empty(input_shape, kFloat32, format_of(last));
  run(Kind::kBackwardData, g, false, last,
      {{DNNL_ARG_DIFF_DST, grad_out.contiguous(format_of(last))},
       {DNNL_ARG_WEIGHTS, weight.contiguous()},
       {DNNL_ARG_DIFF_SRC, grad_in}});
  return grad_in;
}

Array conv2d_backward_weight(const Array& input, const Array& grad_out, const Shape& weight_shape,
                             const Conv2dParams& p) {
  const Geometry g = geometry(input.shape(), weight_shape, p);
  const bool last = is_channels_last(input);
  Array grad_w = Array::empty(weight_shape, kFloat32);
  run(Kind::kBackwardWeights, g, false, last,
      {{DNNL_ARG_SRC, input.contiguous(format_of(last))},
       {DNNL_ARG_DIFF_DST, grad_out.contiguous(format_of(last))},
       {DNNL_ARG_DIFF_WEIGHTS, grad_w}});
  return grad_w;
}

}  // namespace tg::ops::onednn

namespace tg::ops {

int64_t fast_conv_primitives_built() { return static_cast<int64_t>(onednn::cache().size()); }

int64_t packed_weights_held() { return static_cast<int64_t>(onednn::packed_weight_slots()); }

}  // namespace tg::ops
