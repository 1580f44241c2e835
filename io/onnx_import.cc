// tapegrad/io/onnx_import.cc: validation of an ONNX ModelProto and its execution node by node.
#include "io/onnx_import.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/op_table.h"
#include "io/files.h"
#include "io/onnx_converters.h"
#include "io/onnx_tensor.h"
#include "io/qualified_names.h"

namespace tg::io {

namespace {

// The default ONNX domain; nodes of any other domain (ai.onnx.ml, training, custom) are refused.
bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

constexpr int kMinOpset = 6;   // the oldest opset the converters implement (what PyTorch wrote first)
constexpr int kMaxOpset = 18;

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The tensors in `values` at `slots` (undefined for an absent optional input, slot -1), into *args.
void gather(const std::vector<int>& slots, const std::vector<Tensor>& values, std::vector<Tensor>* args) {
  args->clear();
  for (int slot : slots) args->push_back(slot < 0 ? Tensor() : values[slot]);
}

absl::StatusOr<OnnxValueInfo> value_info(const onnx::ValueInfoProto& v, const std::string& field) {
  OnnxValueInfo info;
  info.name = v.name();
  if (!v.has_type() || !v.type().has_tensor_type()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " '", v.name(), "': only tensor values are supported"));
  }
  const auto& tt = v.type().tensor_type();
  auto dtype = dtype_from_onnx(tt.elem_type(), absl::StrCat(field, " '", v.name(), "'"));
  if (!dtype.ok()) return dtype.status();
  info.dtype = *dtype;
  info.has_shape = tt.has_shape();
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(field, " '", v.name(), "': negative dimension ", d.dim_value()));
      }
      info.shape.push_back(d.dim_value());
    } else {
      info.shape.push_back(-1);
    }
    info.dim_names.push_back(d.has_dim_param() ? d.dim_param() : "");
  }
  return info;
}

}  // namespace

absl::StatusOr<std::shared_ptr<OnnxModule>> OnnxModule::create(const onnx::ModelProto& model,
                                                               const std::string& source,
                                                               const OnnxImportOptions& options) {
  auto fail = [&](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat(source, ": ", what)); };
  std::shared_ptr<OnnxModule> m(new OnnxModule());
  m->model_ = model;
  const onnx::GraphProto& g = m->model_.graph();
  for (const auto& o : model.opset_import()) {
    if (is_default_domain(o.domain())) m->opset_ = static_cast<int>(o.version());
  }
  if (m->opset_ == 0) return fail("opset_import names no version of the default ONNX domain");
  if (m->opset_ < kMinOpset || m->opset_ > kMaxOpset) {
    return fail(absl::StrCat("opset ", m->opset_, " is not supported (", kMinOpset, " to ", kMaxOpset, " are)"));
  }
  if (g.sparse_initializer_size() > 0) return fail("graph.sparse_initializer is not supported");

  std::unordered_map<std::string, int> slot_of;
  auto define = [&](const std::string& name) {
    slot_of[name] = static_cast<int>(m->slots_.size());
    m->slots_.emplace_back();
    return slot_of[name];
  };

  // Initializers: decoded now (validated sizes), registered after the nodes tell how each is used.
  std::vector<Tensor> init_values;
  for (int i = 0; i < g.initializer_size(); ++i) {
    const auto& t = g.initializer(i);
    const std::string field = absl::StrCat("graph.initializer[", i, "]");
    if (t.name().empty()) return fail(absl::StrCat(field, ": no name"));
    if (slot_of.count(t.name())) return fail(absl::StrCat(field, " '", t.name(), "': name used twice"));
    auto value = tensor_from_onnx(t, field);
    if (!value.ok()) return fail(std::string(value.status().message()));
    define(t.name());
    init_values.push_back(*value);
  }
  // Inputs: old exporters list the initializers among the inputs too; those are not inputs.
  for (int i = 0; i < g.input_size(); ++i) {
    const auto& v = g.input(i);
    if (slot_of.count(v.name()) && slot_of[v.name()] < g.initializer_size()) continue;
    const std::string field = absl::StrCat("graph.input[", i, "]");
    if (v.name().empty()) return fail(absl::StrCat(field, ": no name"));
    if (slot_of.count(v.name())) return fail(absl::StrCat(field, " '", v.name(), "': name used twice"));
    auto info = value_info(v, field);
    if (!info.ok()) return fail(std::string(info.status().message()));
    m->input_slots_.push_back(define(v.name()));
    m->inputs_.push_back(*info);
  }
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    Node node;
    node.proto = &n;
    node.where = n.name().empty() ? absl::StrCat("node ", i, " (", n.op_type(), ")")
                                  : absl::StrCat("node ", i, " (", n.op_type(), " '", n.name(), "')");
    if (!is_default_domain(n.domain())) {
      return fail(absl::StrCat(node.where, ": domain '", n.domain(), "' is not supported"));
    }
    node.converter = find_onnx_converter(n.op_type(), m->opset_);
    if (node.converter == nullptr) {
      return fail(absl::StrCat(node.where, ": op type ", n.op_type(), " is not supported at opset ", m->opset_));
    }
    const OnnxConverter& c = *node.converter;
    if (n.input_size() < c.min_inputs || (c.max_inputs >= 0 && n.input_size() > c.max_inputs)) {
      return fail(absl::StrCat(node.where, ": has ", n.input_size(), " inputs, ", n.op_type(), " takes ", c.min_inputs,
                               c.max_inputs < 0 ? " or more" : absl::StrCat(" to ", c.max_inputs)));
    }
    if (n.output_size() < 1 || n.output_size() > c.max_outputs) {
      return fail(absl::StrCat(node.where, ": has ", n.output_size(), " outputs, tapegrad computes ", c.max_outputs,
                               " for ", n.op_type()));
    }
    for (const auto& a : n.attribute()) {
      if (a.has_g() || a.graphs_size() > 0) {
        return fail(absl::StrCat(node.where, ": attribute '", a.name(), "' holds a sub-graph (not supported)"));
      }
      if (!a.ref_attr_name().empty()) {
        return fail(absl::StrCat(node.where, ": attribute '", a.name(), "' refers to a function attribute"));
      }
    }
    for (int k = 0; k < n.input_size(); ++k) {
      if (n.input(k).empty()) {
        if (k < c.min_inputs) return fail(absl::StrCat(node.where, ": input ", k, " is required"));
        node.inputs.push_back(-1);
        continue;
      }
      auto it = slot_of.find(n.input(k));
      if (it == slot_of.end()) {
        return fail(absl::StrCat(node.where, ": input ", k, " '", n.input(k),
                                 "' is not defined before it (the graph must be in topological order)"));
      }
      node.inputs.push_back(it->second);
    }
    for (int k = 0; k < n.output_size(); ++k) {
      if (n.output(k).empty()) {
        node.outputs.push_back(-1);
        continue;
      }
      if (slot_of.count(n.output(k))) {
        return fail(absl::StrCat(node.where, ": output ", k, " '", n.output(k), "' is defined twice"));
      }
      node.outputs.push_back(define(n.output(k)));
    }
    m->nodes_.push_back(std::move(node));
  }
  if (options.outputs.empty()) {
    for (int i = 0; i < g.output_size(); ++i) {
      const std::string field = absl::StrCat("graph.output[", i, "]");
      auto it = slot_of.find(g.output(i).name());
      if (it == slot_of.end()) return fail(absl::StrCat(field, " '", g.output(i).name(), "' is not defined"));
      auto info = value_info(g.output(i), field);
      if (!info.ok()) return fail(std::string(info.status().message()));
      m->output_slots_.push_back(it->second);
      m->outputs_.push_back(*info);
    }
  } else {
    // Chosen values as the outputs (a feature extractor cut before the classifier).
    for (const std::string& name : options.outputs) {
      auto it = slot_of.find(name);
      if (it == slot_of.end()) return fail(absl::StrCat("OnnxImportOptions.outputs: no value named '", name, "'"));
      OnnxValueInfo info;
      info.name = name;
      for (const auto& v : g.value_info()) {
        if (v.name() != name) continue;
        auto declared = value_info(v, "graph.value_info");
        if (declared.ok()) info = *declared;
      }
      m->output_slots_.push_back(it->second);
      m->outputs_.push_back(info);
    }
  }
  if (m->outputs_.empty()) return fail("graph has no outputs");
  // Only the nodes the outputs depend on run (all of them, unless outputs were chosen).
  std::vector<bool> needed(m->slots_.size(), false);
  for (int slot : m->output_slots_) needed[slot] = true;
  std::vector<Node> kept;
  for (auto it = m->nodes_.rbegin(); it != m->nodes_.rend(); ++it) {
    bool used = false;
    for (int slot : it->outputs) used = used || (slot >= 0 && needed[slot]);
    if (!used) continue;
    for (int slot : it->inputs)
      if (slot >= 0) needed[slot] = true;
    kept.push_back(std::move(*it));
  }
  m->nodes_.assign(std::make_move_iterator(kept.rbegin()), std::make_move_iterator(kept.rend()));
  // How each initializer is read: data (trainable if floating), state (buffer), or settings only.
  std::vector<bool> read_as_data(init_values.size()), read_as_state(init_values.size());
  for (const Node& node : m->nodes_) {
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const int slot = node.inputs[k];
      if (slot < 0 || slot >= static_cast<int>(init_values.size())) continue;
      if (contains(node.converter->buffer_inputs, static_cast<int>(k))) read_as_state[slot] = true;
      else if (!contains(node.converter->constant_inputs, static_cast<int>(k))) read_as_data[slot] = true;
    }
  }
  std::vector<bool> constant(init_values.size());
  for (size_t i = 0; i < init_values.size(); ++i) {
    const std::string& name = g.initializer(static_cast<int>(i)).name();
    const bool floating = is_floating(init_values[i].dtype());
    const bool frozen = options.freeze_all || options.frozen.count(name) > 0;
    Tensor t = init_values[i];
    try {
      if (floating && read_as_state[i]) {
        t = register_qualified(*m, name, t, /*parameter=*/false);
      } else if (floating && read_as_data[i] && !frozen) {
        t = register_qualified(*m, name, t, /*parameter=*/true);
      }
    } catch (const Error& e) {
      return fail(absl::StrCat("graph.initializer[", i, "] '", name, "': ", e.what()));
    }
    m->slots_[i] = t;
    constant[i] = !(floating && (read_as_state[i] || (read_as_data[i] && !frozen)));
  }
  if (absl::Status folded = m->fold_constants(constant); !folded.ok()) return fail(std::string(folded.message()));
  if (options.fuse_for_inference) m->plan_inference_fusions();
  m->plan_releases();
  return m;
}

// Note [Releasing values]: a forward drops its hold on each value after the last node that reads
// it, so a large graph's activations are not all alive until it returns: their buffers go back to
// the storage cache while still warm and are reused by the next nodes (the values that autograd
// saves stay alive through their nodes). A node inside a fusion counts as reading its inputs at
// the fusion's tail, where the fused form reads them (later than the node-by-node order needs,
// which is safe). A Conv chain whose residual is released at its own tail adds in place into the
// residual's buffer (conv2d_in_kernel_layout) instead of copying it first.
void OnnxModule::plan_releases() {
  last_use_.assign(slots_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const int at = nodes_[i].fusion >= 0 ? fusions_[nodes_[i].fusion].tail : static_cast<int>(i);
    for (int slot : nodes_[i].inputs)
      if (slot >= 0) last_use_[slot] = std::max(last_use_[slot], at);
  }
  for (int slot : output_slots_) last_use_[slot] = -1;
  released_after_.assign(nodes_.size(), {});
  for (size_t slot = 0; slot < last_use_.size(); ++slot)
    if (last_use_[slot] >= 0) released_after_[last_use_[slot]].push_back(static_cast<int>(slot));
}

// Note [Inference fusion on import]: in eval mode some node groups (each node the only reader of
// the one before) can run as one op, as ONNX Runtime fuses them at load:
// - Conv [-> BatchNormalization] [-> Add] [-> Relu] as one convolution. The BatchNormalization is
//   an affine map per channel, y = x * scale + shift with scale = gamma / sqrt(var + eps),
//   shift = beta - mean * scale, folded into the Conv's weight and bias (saving a pass over the
//   activation; it needs constant, parameter or buffer statistics and inference mode); the Add of
//   a residual of the output's shape and the Relu run in the convolution's epilogue (fused_conv2d,
//   Note [Fused convolution] in ops/conv.h: two more passes saved).
// - torch.onnx's masked-softmax attention (MatMul, scale, Where(mask, -inf), Softmax, MatMul) as
//   scaled_dot_product_attention (no [T, T] scores in memory; is_causal for the causal mask).
// - torch.onnx's GELU (Div by sqrt 2, Erf, Add 1, Mul by x, Mul by 0.5) as gelu.
// The model must keep training, so the file's graph is kept: groups are found at load and fused
// only in a forward in eval mode without gradient recording or graph tracing (a saved model
// keeps every node), at the group's last node (a residual may be computed after its Conv). What
// only the values can tell (shapes, scalars, the mask) is checked per call, and a group that does
// not fit runs node by node. The folded weights are cached until a source tensor is written
// (storage versions) or replaced. Values differ from the unfused graph by float rounding.
void OnnxModule::plan_inference_fusions() {
  readers_.assign(slots_.size(), 0);
  reader_.assign(slots_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (int slot : nodes_[i].inputs) {
      if (slot < 0) continue;
      ++readers_[slot];
      reader_[slot] = static_cast<int>(i);
    }
  }
  for (int slot : output_slots_) readers_[slot] += 2;  // never fused away
  auto given = [&](int slot) { return slot >= 0 && slots_[slot].defined() && is_floating(slots_[slot].dtype()); };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& conv = nodes_[i];
    if (conv.proto->op_type() != "Conv" || conv.outputs.size() != 1 || conv.outputs[0] < 0) continue;
    ConvChain chain;
    chain.conv = static_cast<int>(i);
    int out = conv.outputs[0];
    const bool constant_conv = given(conv.inputs[1]) && (conv.inputs.size() < 3 || conv.inputs[2] < 0 || given(conv.inputs[2]));
    if (const int j = sole_reader(out, {"BatchNormalization"}); j >= 0 && constant_conv) {
      const Node& bn = nodes_[j];
      bool training_mode = false, extra_outputs = false, statistics = bn.inputs.size() == 5;
      for (const auto& a : bn.proto->attribute()) training_mode = training_mode || (a.name() == "training_mode" && a.i() != 0);
      for (size_t k = 1; k < bn.outputs.size(); ++k) extra_outputs = extra_outputs || bn.outputs[k] >= 0;
      for (size_t k = 1; statistics && k < 5; ++k) statistics = given(bn.inputs[k]);
      if (!training_mode && !extra_outputs && statistics) {
        chain.batch_norm = j;
        out = bn.outputs[0];
      }
    }
    if (const int j = sole_reader(out, {"Add"}); j >= 0 && nodes_[j].inputs.size() == 2) {
      const Node& add = nodes_[j];
      const int other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
      if (other >= 0 && other != out) {
        chain.add = j;
        chain.residual = other;
        out = add.outputs[0];
      }
    }
    chain.relu = sole_reader(out, {"Relu"});
    chain.output = chain.relu >= 0 ? nodes_[chain.relu].outputs[0] : out;
    // A lone Conv is a chain too: it may take or keep the kernel's layout (Note [Kernel layout on
    // import]).
    chains_.push_back(chain);
    add_fusion(Fusion::kConv, static_cast<int>(chains_.size()) - 1,
               {chain.conv, chain.batch_norm, chain.add, chain.relu});
  }
  plan_kernel_layouts();
  plan_attention_fusions();
  plan_gelu_fusions();
}

void OnnxModule::add_fusion(Fusion::Kind kind, int index, std::initializer_list<int> nodes) {
  const int tail = std::max(nodes);
  for (int k : nodes)
    if (k >= 0) nodes_[k].fusion = static_cast<int>(fusions_.size());
  fusions_.push_back({kind, index, tail});
}

// Note [Kernel layout on import]: convolutions in the kernel's favourite layout (Note [Kernel
// layout] in ops/conv.h) save the reorders to and from NCHW around each one, and its blocked kernels
// beat the NHWC ones. A chain's result stays in that layout when every node that reads it is
// another chain's Conv (as its input) or Add (as its residual), so a ResNet body runs from the
// stem's input to the pooling without a plain activation. Per forward, a chain takes the path when
// its input is held in the kernel's layout or its result may stay there, and the values fit
// (float32, 4-d, symmetric padding, a residual of the output's shape); otherwise, and for any
// other reader, the value is converted to the graph input's memory format first (materialize).
void OnnxModule::plan_kernel_layouts() {
  std::vector<int> chain_reads(slots_.size(), 0);
  for (const ConvChain& chain : chains_) {
    ++chain_reads[nodes_[chain.conv].inputs[0]];
    if (chain.add >= 0) ++chain_reads[chain.residual];
  }
  for (ConvChain& chain : chains_) chain.kernel_out = readers_[chain.output] == chain_reads[chain.output];
}

int64_t OnnxModule::num_kernel_layout_convolutions() const {
  return std::count_if(chains_.begin(), chains_.end(), [](const ConvChain& c) { return c.kernel_out; });
}

void OnnxModule::materialize(int slot, std::vector<Tensor>& values, const KernelValues& kernel) {
  if (slot < 0 || values[slot].defined() || kernel.values.empty() || !kernel.values[slot].defined()) return;
  values[slot] = Tensor(ops::to_plain(kernel.values[slot], kernel.format));
}

bool OnnxModule::run_chain_in_kernel_layout(ConvChain& chain, std::vector<Tensor>& values, KernelValues& kernel) {
  const Node& conv = nodes_[chain.conv];
  const int x = conv.inputs[0];
  const bool x_in_kernel = !values[x].defined() && kernel.values[x].defined();
  if (!x_in_kernel && !chain.kernel_out) return false;  // no reorder to save
  auto fits = [](const Tensor& t) { return t.defined() && t.dtype() == kFloat32 && t.dim() == 4; };
  if (!x_in_kernel && !fits(values[x])) return false;
  const Shape x_shape = x_in_kernel ? kernel.values[x].shape : values[x].shape();
  const std::vector<Tensor> args = conv_inputs(chain, values);
  const Tensor& weight = args[1];
  const Tensor bias = args.size() > 2 ? args[2] : Tensor();
  if (!fits(weight) || (bias.defined() && (bias.dtype() != kFloat32 || bias.dim() != 1))) return false;
  try {
    OnnxNodeContext context(*conv.proto, args, opset_, 1, is_training());
    const std::optional<ops::Conv2dParams> p = kernel_layout_conv_params(context, x_shape, weight.shape());
    if (!p) return false;
    ops::KernelArray residual;
    if (chain.add >= 0) {
      const int r = chain.residual;
      const Shape out = ops::conv2d_output_shape(x_shape, weight.shape(), *p);
      if (!values[r].defined() && kernel.values[r].defined()) {
        residual = kernel.values[r];
      } else if (fits(values[r]) && values[r].shape() == out) {
        residual = ops::as_kernel_array(values[r].data());
      }
      if (!residual.defined() || residual.shape != out) return false;
    }
    const ops::KernelArray input = x_in_kernel ? kernel.values[x] : ops::as_kernel_array(values[x].data());
    if (chain.add >= 0 && chain.residual != x && last_use_[chain.residual] == fusions_[conv.fusion].tail) {
      // Note [Releasing values]: nothing reads the residual after this chain, so this forward lets
      // go of it now and the convolution may add into its buffer.
      values[chain.residual] = Tensor();
      kernel.values[chain.residual] = ops::KernelArray();
    }
    const ops::KernelArray y =
        ops::conv2d_in_kernel_layout(input, weight.data(), bias.defined() ? bias.data() : ops::Array(), *p,
                                     std::move(residual), chain.relu >= 0);
    if (chain.kernel_out) {
      kernel.values[chain.output] = y;
    } else {
      values[chain.output] = Tensor(ops::to_plain(y, kernel.format));
    }
  } catch (const Error& e) {
    throw Error(absl::StrCat("onnx ", conv.where, ": ", e.what()));
  }
  return true;
}

int OnnxModule::sole_reader(int slot, std::initializer_list<const char*> op_types) const {
  if (slot < 0 || readers_[slot] != 1) return -1;
  const Node& n = nodes_[reader_[slot]];
  if (n.fusion >= 0 || n.outputs.empty() || n.outputs[0] < 0) return -1;
  for (const char* t : op_types)
    if (n.proto->op_type() == t) return reader_[slot];
  return -1;
}

void OnnxModule::plan_attention_fusions() {
  // A value known at load (initializer or folded constant) holding one floating number; its
  // value is read again at every call (it may be a parameter).
  auto scalar = [&](int slot) {
    return slot >= 0 && slots_[slot].defined() && slots_[slot].numel() == 1 && is_floating(slots_[slot].dtype());
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& scores = nodes_[i];
    if (scores.proto->op_type() != "MatMul" || scores.fusion >= 0 || scores.inputs.size() != 2 || scores.outputs[0] < 0) {
      continue;
    }
    AttentionChain a;
    a.scores = static_cast<int>(i);
    a.q = scores.inputs[0];
    a.kt = scores.inputs[1];
    int out = scores.outputs[0];
    if (const int j = sole_reader(out, {"Mul", "Div"}); j >= 0 && nodes_[j].inputs.size() == 2) {
      const Node& n = nodes_[j];
      const bool div = n.proto->op_type() == "Div";
      const int other = n.inputs[0] == out ? n.inputs[1] : n.inputs[0];
      if (other >= 0 && other != out && (!div || n.inputs[0] == out)) {  // a scalar: checked per call
        a.scale = j;
        out = n.outputs[0];
      }
    }
    const int w = sole_reader(out, {"Where"});
    if (w < 0 || nodes_[w].inputs.size() != 3 || nodes_[w].inputs[2] != out || nodes_[w].inputs[1] == out ||
        nodes_[w].inputs[0] < 0 || !scalar(nodes_[w].inputs[1]) ||
        slots_[nodes_[w].inputs[1]].item() != -std::numeric_limits<double>::infinity()) {
      continue;
    }
    a.where = w;
    a.blocked = nodes_[w].inputs[0];
    a.softmax = sole_reader(nodes_[w].outputs[0], {"Softmax"});
    if (a.softmax < 0) continue;
    a.output = sole_reader(nodes_[a.softmax].outputs[0], {"MatMul"});
    if (a.output < 0 || nodes_[a.output].inputs[0] != nodes_[a.softmax].outputs[0] ||
        nodes_[a.output].inputs[1] == nodes_[a.softmax].outputs[0]) {
      continue;
    }
    a.v = nodes_[a.output].inputs[1];
    attentions_.push_back(a);
    add_fusion(Fusion::kAttention, static_cast<int>(attentions_.size()) - 1,
               {a.scores, a.scale, a.where, a.softmax, a.output});
  }
}

void OnnxModule::plan_gelu_fusions() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& div = nodes_[i];
    if (div.proto->op_type() != "Div" || div.fusion >= 0 || div.inputs.size() != 2 || div.inputs[0] < 0 ||
        div.outputs[0] < 0) {
      continue;
    }
    GeluChain g;
    g.div = static_cast<int>(i);
    g.x = div.inputs[0];
    g.erf = sole_reader(div.outputs[0], {"Erf"});
    if (g.erf < 0) continue;
    g.add = sole_reader(nodes_[g.erf].outputs[0], {"Add"});
    if (g.add < 0 || nodes_[g.add].inputs.size() != 2) continue;
    g.mul = sole_reader(nodes_[g.add].outputs[0], {"Mul"});
    if (g.mul < 0) continue;
    const Node& mul = nodes_[g.mul];
    const int add_out = nodes_[g.add].outputs[0];
    if (mul.inputs.size() != 2 || (mul.inputs[0] == add_out ? mul.inputs[1] : mul.inputs[0]) != g.x) continue;
    g.half = sole_reader(mul.outputs[0], {"Mul"});
    if (g.half < 0 || nodes_[g.half].inputs.size() != 2) continue;
    gelus_.push_back(g);
    add_fusion(Fusion::kGelu, static_cast<int>(gelus_.size()) - 1, {g.div, g.erf, g.add, g.mul, g.half});
  }
}

int64_t OnnxModule::num_fused_gelus() const { return static_cast<int64_t>(gelus_.size()); }

int64_t OnnxModule::num_folded_batch_norms() const {
  return std::count_if(chains_.begin(), chains_.end(), [](const ConvChain& c) { return c.batch_norm >= 0; });
}

int64_t OnnxModule::num_fused_attentions() const { return static_cast<int64_t>(attentions_.size()); }

int64_t OnnxModule::num_fused_convolutions() const {
  return std::count_if(chains_.begin(), chains_.end(), [](const ConvChain& c) { return c.add >= 0 || c.relu >= 0; });
}

struct OnnxModule::FoldedConv {
  std::vector<std::pair<std::shared_ptr<ops::Storage>, uint64_t>> sources;  // storage, version
  Tensor weight, bias;
};

std::vector<Tensor> OnnxModule::conv_inputs(ConvChain& chain, const std::vector<Tensor>& values) {
  const Node& conv = nodes_[chain.conv];
  if (chain.batch_norm < 0) {
    std::vector<Tensor> args;
    gather(conv.inputs, values, &args);
    return args;
  }
  const Node& bn = nodes_[chain.batch_norm];
  const Tensor& w = values[conv.inputs[1]];
  const Tensor b = conv.inputs.size() > 2 && conv.inputs[2] >= 0 ? values[conv.inputs[2]] : Tensor();
  const Tensor &gamma = values[bn.inputs[1]], &beta = values[bn.inputs[2]], &mean = values[bn.inputs[3]],
               &var = values[bn.inputs[4]];
  std::vector<std::pair<std::shared_ptr<ops::Storage>, uint64_t>> sources;
  for (const Tensor* t : {&w, &b, &gamma, &beta, &mean, &var}) {
    if (t->defined()) sources.emplace_back(t->data().storage(), t->data().storage()->version());
  }
  std::shared_ptr<FoldedConv> folded;
  {
    const std::lock_guard<std::mutex> lock(folding_);
    folded = chain.folded;
  }
  if (folded == nullptr || folded->sources != sources) {
    double eps = 1e-5;
    for (const auto& a : bn.proto->attribute())
      if (a.name() == "epsilon") eps = a.f();
    const Tensor scale = gamma / sqrt(var + eps), shift = beta - mean * scale;
    Shape per_channel(w.dim(), 1);
    per_channel[0] = -1;
    folded = std::make_shared<FoldedConv>();
    folded->sources = std::move(sources);
    folded->weight = w * reshape(scale, per_channel);
    folded->bias = b.defined() ? b * scale + shift : shift;
    const std::lock_guard<std::mutex> lock(folding_);
    chain.folded = folded;
  }
  return {values[conv.inputs[0]], folded->weight, folded->bias};
}

std::vector<Tensor> OnnxModule::run_node(const Node& node, const std::vector<Tensor>& args) {
  try {
    OnnxNodeContext context(*node.proto, args, opset_, static_cast<int>(node.outputs.size()), is_training());
    return node.converter->convert(context);
  } catch (const Error& e) {
    throw Error(absl::StrCat("onnx ", node.where, ": ", e.what()));
  }
}

Tensor OnnxModule::run_chain(ConvChain& chain, const std::vector<Tensor>& values) {
  const Node& conv = nodes_[chain.conv];
  const std::vector<Tensor> args = conv_inputs(chain, values);
  const Tensor residual = chain.add >= 0 ? values[chain.residual] : Tensor();
  Tensor y;
  try {
    OnnxNodeContext context(*conv.proto, args, opset_, 1, is_training());
    y = fused_conv_onnx(context, residual, chain.relu >= 0);
  } catch (const Error& e) {
    throw Error(absl::StrCat("onnx ", conv.where, ": ", e.what()));
  }
  if (y.defined()) return y;
  // The Add broadcasts the residual: the (folded) convolution, then the Add and Relu as they are.
  y = run_node(conv, args).at(0);
  const Node& add = nodes_[chain.add];
  y = run_node(add, add.inputs[0] == chain.residual ? std::vector<Tensor>{residual, y} : std::vector<Tensor>{y, residual}).at(0);
  return chain.relu >= 0 ? run_node(nodes_[chain.relu], {y}).at(0) : y;
}

namespace {

// Whether `blocked` (bool, broadcast to [L, S]) blocks exactly the columns j > i of row i: the
// causal mask that scaled_dot_product_attention's is_causal computes from the indices.
bool is_causal_block(const Tensor& blocked, int64_t l, int64_t s) {
  if (blocked.dim() < 2 || blocked.size(-2) != l || blocked.size(-1) != s || blocked.numel() != l * s) return false;
  const ops::Array b = blocked.data().contiguous();
  const bool* p = b.data<bool>();
  for (int64_t i = 0; i < l; ++i)
    for (int64_t j = 0; j < s; ++j)
      if (p[i * s + j] != (j > i)) return false;
  return true;
}

}  // namespace

Tensor OnnxModule::run_attention(const AttentionChain& a, const std::vector<Tensor>& values) {
  const Tensor &q = values[a.q], &kt = values[a.kt], &v = values[a.v], &blocked = values[a.blocked];
  const Node &softmax = nodes_[a.softmax], &where = nodes_[a.where];
  // The fused form fits: equal leading dims (no MatMul broadcasting), one floating dtype, a bool
  // mask that broadcasts to the scores, softmax over the last axis, a -inf fill.
  bool fits = q.dim() >= 2 && kt.dim() == q.dim() && v.dim() == q.dim() && is_floating(q.dtype()) &&
              kt.dtype() == q.dtype() && v.dtype() == q.dtype() && blocked.dtype() == kBool &&
              blocked.dim() <= q.dim() && q.size(-1) == kt.size(-2) && kt.size(-1) == v.size(-2) &&
              values[where.inputs[1]].item() == -std::numeric_limits<double>::infinity();
  for (int64_t d = 0; fits && d + 2 < q.dim(); ++d) fits = q.size(d) == kt.size(d) && q.size(d) == v.size(d);
  const int64_t l = fits ? q.size(-2) : 0, s = fits ? kt.size(-1) : 0;
  for (int64_t d = 1; fits && d <= blocked.dim(); ++d) {
    const int64_t want = d == 1 ? s : d == 2 ? l : q.size(-d);
    fits = blocked.size(-d) == 1 || blocked.size(-d) == want;
  }
  if (fits) {
    int64_t axis = -1;
    for (const auto& attr : softmax.proto->attribute())
      if (attr.name() == "axis") axis = attr.i();
    fits = axis == -1 || axis == q.dim() - 1;
  }
  double scale = 1.0;
  if (fits && a.scale >= 0) {  // the scores scaled by a floating scalar (a shape-derived one, often)
    const Node& n = nodes_[a.scale];
    const Tensor& c = values[n.inputs[0] == nodes_[a.scores].outputs[0] ? n.inputs[1] : n.inputs[0]];
    fits = c.numel() == 1 && is_floating(c.dtype()) && c.dim() <= q.dim();
    if (fits) scale = n.proto->op_type() == "Div" ? 1.0 / c.item() : c.item();
  }
  if (fits) {
    try {
      const bool causal = is_causal_block(blocked, l, s);
      return scaled_dot_product_attention(q, transpose(kt, -2, -1), v, causal ? Tensor() : logical_not(blocked), 0.0,
                                          causal, scale);
    } catch (const Error& e) {
      throw Error(absl::StrCat("onnx ", nodes_[a.scores].where, " (fused attention): ", e.what()));
    }
  }
  return run_separately({a.scores, a.scale, a.where, a.softmax, a.output}, values);
}

Tensor OnnxModule::run_gelu(const GeluChain& g, const std::vector<Tensor>& values) {
  // The constants must be sqrt 2, 1 and 0.5 (to float32 rounding) as 0-d or one-element values
  // of x's floating dtype: then the five nodes are gelu(x).
  const Tensor& x = values[g.x];
  auto other = [&](int node, int known) {
    const Node& n = nodes_[node];
    return values[n.inputs[0] == known ? n.inputs[1] : n.inputs[0]];
  };
  auto is = [&](const Tensor& c, double value) {
    return c.defined() && c.numel() == 1 && c.dim() <= x.dim() && c.dtype() == x.dtype() &&
           std::abs(c.item() - value) <= 1e-6 * value;
  };
  const bool fits = is_floating(x.dtype()) && is(values[nodes_[g.div].inputs[1]], std::sqrt(2.0)) &&
                    is(other(g.add, nodes_[g.erf].outputs[0]), 1.0) && is(other(g.half, nodes_[g.mul].outputs[0]), 0.5);
  if (!fits) return run_separately({g.div, g.erf, g.add, g.mul, g.half}, values);
  try {
    return gelu(x);
  } catch (const Error& e) {
    throw Error(absl::StrCat("onnx ", nodes_[g.div].where, " (fused gelu): ", e.what()));
  }
}

Tensor OnnxModule::run_separately(std::initializer_list<int> nodes, const std::vector<Tensor>& values) {
  std::vector<Tensor> local(values);
  int last = -1;
  for (int k : nodes) {
    if (k < 0) continue;
    std::vector<Tensor> args;
    gather(nodes_[k].inputs, local, &args);
    local[nodes_[k].outputs[0]] = run_node(nodes_[k], args).at(0);
    last = k;
  }
  return local[nodes_[last].outputs[0]];
}

// Note [Constant folding at load]: a node whose inputs are all constants (initializers that are
// neither parameters nor buffers, Constant nodes, earlier folded nodes) and whose result does not
// depend on the mode or a random draw computes the same at every call: it runs once here, its
// outputs become constants and the node is dropped. A node that cannot run on its constants is
// an error at load, naming it.
absl::Status OnnxModule::fold_constants(std::vector<bool> constant) {
  constant.resize(slots_.size(), false);
  std::vector<Node> kept;
  NoGradGuard no_grad;
  ops::AllocationLimitGuard limit(int64_t{1} << 30);
  for (Node& node : nodes_) {
    bool foldable = !node.converter->depends_on_mode;
    for (int slot : node.inputs) foldable = foldable && (slot < 0 || constant[slot]);
    if (!foldable) {
      kept.push_back(std::move(node));
      continue;
    }
    std::vector<Tensor> args;
    gather(node.inputs, slots_, &args);
    std::vector<Tensor> outs;
    try {
      OnnxNodeContext context(*node.proto, args, opset_, static_cast<int>(node.outputs.size()), /*training=*/false);
      outs = node.converter->convert(context);
    } catch (const Error& e) {
      return absl::InvalidArgumentError(absl::StrCat(node.where, ": ", e.what()));
    }
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      if (node.outputs[k] < 0) continue;
      if (k >= outs.size() || !outs[k].defined()) {
        return absl::InvalidArgumentError(absl::StrCat(node.where, ": output ", k, " is not computed by tapegrad's ",
                                                       node.proto->op_type()));
      }
      slots_[node.outputs[k]] = outs[k];
      constant[node.outputs[k]] = true;
    }
  }
  nodes_ = std::move(kept);
  return absl::OkStatus();
}

std::vector<Tensor> OnnxModule::forward(const std::vector<Tensor>& inputs) {
  TG_CHECK(inputs.size() == inputs_.size(), "OnnxModule: ", inputs.size(), " inputs given, the graph takes ",
           inputs_.size());
  std::vector<Tensor> values(slots_);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const OnnxValueInfo& info = inputs_[i];
    const Tensor& x = inputs[i];
    TG_CHECK(x.defined(), "OnnxModule: input '", info.name, "' is undefined");
    TG_CHECK(x.dtype() == info.dtype, "OnnxModule: input '", info.name, "' is ", dtype_name(x.dtype()),
             ", the graph expects ", dtype_name(info.dtype));
    if (info.has_shape) {
      bool fits = x.dim() == static_cast<int64_t>(info.shape.size());
      for (size_t d = 0; fits && d < info.shape.size(); ++d) fits = info.shape[d] < 0 || info.shape[d] == x.size(d);
      TG_CHECK(fits, "OnnxModule: input '", info.name, "' has shape ", shape_str(x.shape()), ", the graph expects ",
               shape_str(info.shape), " (-1: any size)");
    }
    values[input_slots_[i]] = x;
  }
  // Note [Inference fusion on import]: only where nothing trains, differentiates or traces.
  const bool fuse = !is_training() && !GradMode::is_enabled() && current_op_observer() == nullptr;
  KernelValues kernel;
  int64_t kernel_runs = 0;
  if (fuse) {
    kernel.values.resize(values.size());
    for (const Tensor& x : inputs)
      if (x.dim() == 4 && x.is_contiguous(MemoryFormat::ChannelsLast) && !x.is_contiguous()) kernel.format = MemoryFormat::ChannelsLast;
  }
  std::vector<Tensor> args;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i > 0) {
      for (int slot : released_after_[i - 1]) {
        values[slot] = Tensor();
        if (fuse) kernel.values[slot] = ops::KernelArray();
      }
    }
    const Node& node = nodes_[i];
    const Fusion* f = fuse && node.fusion >= 0 ? &fusions_[node.fusion] : nullptr;
    // A Conv chain reads the kernel's layout itself; every other node needs plain inputs.
    if (f == nullptr || f->kind != Fusion::kConv)
      for (int slot : node.inputs) materialize(slot, values, kernel);
    if (f != nullptr) {
      if (static_cast<int>(i) != f->tail) continue;  // the fusion's nodes are computed at its last one
      if (f->kind == Fusion::kConv) {
        ConvChain& chain = chains_[f->index];
        if (run_chain_in_kernel_layout(chain, values, kernel)) {
          ++kernel_runs;
          continue;
        }
        materialize(nodes_[chain.conv].inputs[0], values, kernel);
        materialize(chain.residual, values, kernel);
        values[chain.output] = run_chain(chain, values);
      } else {
        values[node.outputs[0]] = f->kind == Fusion::kAttention ? run_attention(attentions_[f->index], values)
                                                                : run_gelu(gelus_[f->index], values);
      }
      continue;
    }
    gather(node.inputs, values, &args);
    const std::vector<Tensor> outs = run_node(node, args);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      if (node.outputs[k] < 0) continue;
      TG_CHECK(k < outs.size() && outs[k].defined(), "onnx ", node.where, ": output ", k,
               " is not computed by tapegrad's ", node.proto->op_type());
      values[node.outputs[k]] = outs[k];
    }
  }
  kernel_layout_runs_ = kernel_runs;
  std::vector<Tensor> result;
  for (int slot : output_slots_) result.push_back(values[slot]);
  return result;
}

Tensor OnnxModule::forward(const Tensor& input) {
  TG_CHECK(inputs_.size() == 1 && outputs_.size() == 1, "OnnxModule: the graph has ", inputs_.size(), " inputs and ",
           outputs_.size(), " outputs; call forward(std::vector<Tensor>)");
  return forward(std::vector<Tensor>{input})[0];
}

std::string OnnxModule::extra_repr() const {
  return absl::StrCat("opset=", opset_, ", nodes=", nodes_.size(), ", inputs=", inputs_.size(),
                      ", outputs=", outputs_.size());
}

std::map<std::string, int> OnnxModule::op_counts() const {
  std::map<std::string, int> counts;
  for (const auto& n : model_.graph().node()) ++counts[n.op_type()];
  return counts;
}

absl::StatusOr<OnnxModel> parse_onnx(const std::string& bytes, const std::string& source,
                                     const OnnxImportOptions& options) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a valid ONNX model (protobuf parse failed)"));
  }
  if (!model.has_graph()) return absl::InvalidArgumentError(absl::StrCat(source, ": the model has no graph"));
  auto module = OnnxModule::create(model, source, options);
  if (!module.ok()) return module.status();
  OnnxModel out;
  out.module = *module;
  out.producer = model.producer_version().empty() ? model.producer_name()
                                                  : absl::StrCat(model.producer_name(), " ", model.producer_version());
  for (const auto& p : model.metadata_props()) out.metadata[p.key()] = p.value();
  return out;
}

absl::StatusOr<OnnxModel> load_onnx(const std::string& path, const OnnxImportOptions& options) {
  auto bytes = read_file(path, options.max_file_bytes);
  if (!bytes.ok()) return bytes.status();
  return parse_onnx(*bytes, path, options);
}

}  // namespace tg::io
