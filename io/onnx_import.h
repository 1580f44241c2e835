// tapegrad/io/onnx_import.h: ONNX models as trainable tapegrad modules.
//   auto model = tg::io::load_onnx("resnet.onnx");          // absl::StatusOr<OnnxModel>
//   tg::Tensor logits = model->module->forward(images);     // one input, one output
//   auto outs = model->module->forward(std::vector<tg::Tensor>{ids, mask});  // any number
// Every node runs through its converter (io/onnx_converters.h) on tapegrad's differentiable
// functions, so the module trains (its floating initializers are named parameters), follows
// train()/eval() (Dropout, BatchNormalization), saves as a .tgm by tracing and exports to ONNX
// again. Shapes stay dynamic: Shape/Gather/Concat/Reshape chains run on the actual input; nodes
// on constants alone are computed once at load (Note [Constant folding at load]).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nn/module.h"
#include "ops/conv.h"
#include "onnx/onnx_pb.h"

namespace tg::io {

struct OnnxConverter;

struct OnnxImportOptions {
  bool freeze_all = false;            // no initializer becomes a trainable parameter
  std::set<std::string> frozen;       // these initializers stay constants
  // Values to return instead of the graph's outputs (any node output, input or initializer, by
  // name): a feature extractor cut before the classifier. Only the nodes they depend on run.
  std::vector<std::string> outputs;
  int64_t max_file_bytes = int64_t{1} << 32;
  // In eval mode without gradients or tracing, run node groups as one op (Note [Inference fusion
  // on import]): Conv [-> BatchNormalization] [-> Add] [-> Relu] as one convolution (the batch norm
  // folded into its weights, the Add and Relu in its epilogue), torch.onnx's masked-softmax
  // attention as scaled_dot_product_attention, its GELU as gelu. Faster, equal to float rounding.
  bool fuse_for_inference = true;
};

// One declared graph input or output: -1 in shape marks a symbolic dimension.
struct OnnxValueInfo {
  std::string name;
  DType dtype = kFloat32;
  Shape shape;
  std::vector<std::string> dim_names;  // dim_param where the file names one
  bool has_shape = false;
};

class OnnxModule : public nn::Module {
 public:
  // Validates the model (opset, every node's op and arity, references in topological order,
  // every initializer's bytes); errors name `source`, the node index, op type and field at fault.
  static absl::StatusOr<std::shared_ptr<OnnxModule>> create(const onnx::ModelProto& model, const std::string& source,
                                                            const OnnxImportOptions& options = {});

  std::vector<Tensor> forward(const std::vector<Tensor>& inputs);
  Tensor forward(const Tensor& input) override;  // one input and one output
  std::string extra_repr() const override;

  const std::vector<OnnxValueInfo>& inputs() const { return inputs_; }
  const std::vector<OnnxValueInfo>& outputs() const { return outputs_; }
  int opset() const { return opset_; }
  int64_t num_nodes() const { return static_cast<int64_t>(nodes_.size()); }  // after constant folding
  // Note [Inference fusion on import]: the BatchNormalizations folded into their Conv, and the
  // Convs whose Add and/or Relu run in their epilogue, in eval mode without gradients.
  int64_t num_folded_batch_norms() const;
  int64_t num_fused_convolutions() const;
  // Note [Kernel layout on import]: the Conv chains whose output stays in the kernel's layout
  // (every reader is another chain's convolution input or residual).
  int64_t num_kernel_layout_convolutions() const;
  // How many chains ran in the kernel's layout in the latest forward (tests, profiling).
  int64_t kernel_layout_runs() const { return kernel_layout_runs_.load(); }
  // MatMul -> scale -> masking Where -> Softmax -> MatMul chains run as one attention, and
  // x * 0.5 * (1 + erf(x / sqrt 2)) node chains as one gelu.
  int64_t num_fused_attentions() const;
  int64_t num_fused_gelus() const;
  // ONNX op type -> number of nodes in the file, for `tapegrad inspect`.
  std::map<std::string, int> op_counts() const;

 private:
  OnnxModule() : Module("OnnxModule") {}
  absl::Status fold_constants(std::vector<bool> constant);  // constant: per slot
  void plan_inference_fusions();
  struct FoldedConv;
  struct Node {
    const onnx::NodeProto* proto;
    const OnnxConverter* converter;
    std::vector<int> inputs;   // slots; -1 for an absent optional input
    std::vector<int> outputs;  // slots; -1 for an output nothing names
    std::string where;         // "node 12 (Conv 'conv1')"
    int fusion = -1;           // its Fusion (index into fusions_), if any
  };
  // Note [Inference fusion on import]: a group of nodes that runs as one op at `tail`, the last of
  // them; `index` points into the kind's own list.
  struct Fusion {
    enum Kind { kConv, kAttention, kGelu } kind;
    int index, tail;
  };
  void add_fusion(Fusion::Kind kind, int index, std::initializer_list<int> nodes);
  // Conv [-> BatchNormalization] [-> Add] [-> Relu]: node indices into nodes_ (-1 where the chain
  // has none).
  struct ConvChain {
    int conv = -1, batch_norm = -1, add = -1, relu = -1;
    int residual = -1;  // the slot the Add adds to the convolution's output
    int output = -1;    // the slot of the chain's result
    bool kernel_out = false;  // Note [Kernel layout on import]: the result stays in the kernel's layout
    std::shared_ptr<FoldedConv> folded;  // the folded weights, cached
  };
  // softmax(q kt * scale, masked) v as MatMul(q, kt), an optional Mul or Div by a scalar,
  // Where(blocked, -inf, scores), Softmax over the last axis, MatMul(., v); shapes, the scalar and
  // the fill are checked per call.
  struct AttentionChain {
    int scores = -1, scale = -1, where = -1, softmax = -1, output = -1;  // node indices
    int q = -1, kt = -1, v = -1, blocked = -1;                           // slots
  };
  // x * 0.5 * (1 + erf(x / sqrt 2)) as Div(x, sqrt 2), Erf, Add 1, Mul by x, Mul by 0.5 (torch.onnx's
  // GELU before opset 20); the constants are checked per call.
  struct GeluChain {
    int div = -1, erf = -1, add = -1, mul = -1, half = -1;  // node indices
    int x = -1;                                              // slot
  };
  // The node that alone reads `slot` (nothing else does, it is not a graph output, it is in no
  // fusion yet), if its op type is one of op_types; else -1.
  int sole_reader(int slot, std::initializer_list<const char*> op_types) const;
  void plan_attention_fusions();
  void plan_gelu_fusions();
  void plan_kernel_layouts();
  // Note [Kernel layout on import]: activations held in a convolution kernel's layout during one
  // forward (by slot), and the plain format they take when something else reads them.
  struct KernelValues {
    std::vector<ops::KernelArray> values;
    MemoryFormat format = MemoryFormat::Contiguous;
  };
  // values[slot], converted from the kernel's layout first if it is only held there.
  static void materialize(int slot, std::vector<Tensor>& values, const KernelValues& kernel);
  // Runs the chain in the kernel's layout when that saves reorders and the values fit; false
  // (nothing done) otherwise.
  bool run_chain_in_kernel_layout(ConvChain& chain, std::vector<Tensor>& values, KernelValues& kernel);
  Tensor run_attention(const AttentionChain& chain, const std::vector<Tensor>& values);
  Tensor run_gelu(const GeluChain& chain, const std::vector<Tensor>& values);
  // The nodes of a fusion one by one (when its fused form does not fit the values).
  Tensor run_separately(std::initializer_list<int> nodes, const std::vector<Tensor>& values);
  std::vector<Tensor> run_node(const Node& node, const std::vector<Tensor>& args);
  Tensor run_chain(ConvChain& chain, const std::vector<Tensor>& values);
  // The chain's Conv inputs: with a BatchNormalization folded in, {x, weight * scale,
  // bias * scale + shift} (cached until one of the six source tensors changes), else the node's own.
  std::vector<Tensor> conv_inputs(ConvChain& chain, const std::vector<Tensor>& values);
  std::atomic<int64_t> kernel_layout_runs_{0};
  std::mutex folding_;  // guards the chains' folded caches (forwards may run on several threads)
  std::vector<Fusion> fusions_;
  std::vector<ConvChain> chains_;
  std::vector<AttentionChain> attentions_;
  std::vector<GeluChain> gelus_;
  std::vector<int> readers_, reader_;  // per slot: how many read it (outputs count twice), the last node that does
  // Note [Releasing values]: per slot, the node after which a forward no longer needs it (the last
  // reader, or its fusion's tail; -1 for graph outputs and unread slots), and per node the slots
  // released after it.
  void plan_releases();
  std::vector<int> last_use_;
  std::vector<std::vector<int>> released_after_;
  onnx::ModelProto model_;  // owns the NodeProtos the nodes point into
  std::vector<Node> nodes_;
  std::vector<Tensor> slots_;  // initializers (parameters, buffers, constants); the rest filled per call
  std::vector<int> input_slots_, output_slots_;
  std::vector<OnnxValueInfo> inputs_, outputs_;
  int opset_ = 0;
};

struct OnnxModel {
  std::shared_ptr<OnnxModule> module;
  std::string producer;                       // producer_name and version from the file
  std::map<std::string, std::string> metadata;  // metadata_props
};

absl::StatusOr<OnnxModel> load_onnx(const std::string& path, const OnnxImportOptions& options = {});
// The same from bytes in memory; `source` names them in errors.
absl::StatusOr<OnnxModel> parse_onnx(const std::string& bytes, const std::string& source,
                                     const OnnxImportOptions& options = {});

}  // namespace tg::io
