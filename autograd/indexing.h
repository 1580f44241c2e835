// tapegrad/autograd/indexing.h: LibTorch-style indexing, x.index({0, Slice(1, -1), None, "..."}),
// and the slicing and rearranging functions built on views: select, chunk, split, unbind, flip,
// roll, repeat, repeat_interleave, tril/triu, masked_fill/masked_select, nonzero, one_hot, pad.
// Each is a composition of op rows (slice, reshape, index_select, cat, expand, where), so it is
// differentiable to any order and exports to ONNX through them.
//   using namespace tg::indexing;
//   Tensor last = x.index({"...", -1});            // x[..., -1]
//   Tensor rows = x.index({Slice(1, None), None});  // x[1:, None]
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "autograd/tensor.h"
#include "ops/scalar.h"

namespace tg {
namespace indexing {

// None is std::nullopt, as at::indexing::None is c10::nullopt: in an index list a new axis of
// size 1, in a Slice an open end.
inline constexpr std::nullopt_t None = std::nullopt;
struct EllipsisIndex {};  // as many full slices as the other indices leave
inline constexpr EllipsisIndex Ellipsis{};

// start:stop:step, as in Python: Slice(1, -1), Slice(None, None, 2), Slice() for ":".
struct Slice {
  Slice(std::optional<int64_t> start = std::nullopt, std::optional<int64_t> stop = std::nullopt,
        std::optional<int64_t> step = std::nullopt)
      : start(start), stop(stop), step(step) {}
  std::optional<int64_t> start, stop, step;
};
struct NoneIndex {};

// One entry of an index list: an integer (selects, removing the dim), a Slice, None, "..." or
// Ellipsis, a bool (true adds a dim, false an empty one, as PyTorch), or a tensor (int64 indices
// along the dim, or a bool mask over the dims it covers).
class TensorIndex {
 public:
  TensorIndex(int64_t i) : value_(i) {}  // NOLINT: implicit, like at::indexing::TensorIndex
  TensorIndex(int i) : value_(static_cast<int64_t>(i)) {}  // NOLINT
  TensorIndex(bool b) : value_(b) {}  // NOLINT
  TensorIndex(Slice s) : value_(s) {}  // NOLINT
  TensorIndex(std::nullopt_t) : value_(NoneIndex{}) {}  // NOLINT: None
  TensorIndex(EllipsisIndex) : value_(EllipsisIndex{}) {}  // NOLINT
  TensorIndex(const char* s);  // NOLINT: only "..."
  TensorIndex(Tensor t) : value_(std::move(t)) {}  // NOLINT
  using Value = std::variant<int64_t, bool, Slice, NoneIndex, EllipsisIndex, Tensor>;
  const Value& value() const { return value_; }

 private:
  Value value_;
};

}  // namespace indexing

// x[indices...]; throws naming the index and the shape when one does not fit.
Tensor index(const Tensor& x, const std::vector<indexing::TensorIndex>& indices);

// x with dim removed, at position i (negative counts from the end).
Tensor select(const Tensor& x, int64_t dim, int64_t i);
// `chunks` pieces of (at most) equal size along dim, as torch.chunk (the last may be smaller).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Pieces of split_size (the last may be smaller), or of the given sizes (summing to the dim).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);
Tensor flip(const Tensor& x, IntArrayRef dims);
// Elements shifted cyclically by shifts[i] along dims[i]; with no dims, over the flattened tensor.
Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims = {});
// x tiled sizes[d] times along each dim (leading sizes add dims), as torch.repeat.
Tensor repeat(const Tensor& x, IntArrayRef sizes);
// Each element (or slice along dim) repeated `repeats` times; no dim: over the flattened tensor.
Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim = std::nullopt);
Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<int64_t> dim = std::nullopt);
// The lower / upper triangle of the last two dims (diagonal k: above the main one for k > 0).
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// value where mask (broadcast to x) is true; the value takes x's dtype, as in PyTorch.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);
// x with values (broadcast to the indexed shape) written where x.index(indices) reads, or added
// there with accumulate (repeated indices add up; without, the last one wins). Out of place:
// Tensor::index_put_ writes in place.
Tensor index_put(const Tensor& x, const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                 bool accumulate = false);
// The elements of x where mask (broadcast) is true, as a 1-D tensor.
Tensor masked_select(const Tensor& x, const Tensor& mask);
// The indices of the non-zero elements: [count, x.dim()] int64 (not differentiable).
Tensor nonzero(const Tensor& x);
// int64 [*, num_classes]; num_classes -1: the largest index + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
// pad = {left, right} for the last dim, then {top, bottom} for the one before... (negative crops).
// mode: "constant" (value), "reflect" (mirror without the edge) or "replicate" (edge value).
Tensor pad(const Tensor& x, IntArrayRef pad, const std::string& mode = "constant", double value = 0.0);

}  // namespace tg
