// tapegrad/autograd/inplace.h: the machinery behind in-place ops (add_, mul_, masked_fill_,
// index_put_, +=...): version counters, history rewriting, and views (Note [Views and in-place]).
//
// An in-place op is its out-of-place op plus a write: apply_inplace computes the out-of-place
// result, checks it fits the tensor written to (same shape, a dtype it can be cast to, no
// overlapping elements), writes it, bumps the storage's version and, while recording, makes the
// result's history the tensor's history. A write through a view rewrites the base's history
// (a CopySlices node: the base with the view's elements replaced), so the base and all its views
// differentiate through the write, as in PyTorch. Refused while recording, as PyTorch does: a leaf
// that requires grad (a parameter) or a view of one, and a view made under NoGradGuard of a tensor
// that requires grad.
#pragma once

#include <functional>
#include <vector>

#include "autograd/tensor.h"

namespace tg::internal {

// Runs `functional(self)` (the out-of-place op) and writes its result into self. `operands`
// are the op's other tensor inputs (whether any requires grad decides whether history is kept).
// `direct`, if given, performs the write itself when no history is kept (a fused kernel: an
// optimizer's add_ need not allocate). op names the operation in errors and in the version
// counter (a string literal).
using Functional = std::function<Tensor(const Tensor& self)>;
Tensor& apply_inplace(Tensor& self, const char* op, const std::vector<Tensor>& operands, const Functional& functional,
                      const std::function<void()>& direct = nullptr);

// apply_op calls this for every op output: an output sharing an input's storage (and dtype) is
// a view of that input's root base.
void mark_view(const Tensor& input, const Tensor& output);

// Re-derives a view's grad_fn from its base if the storage was written since it was derived.
// Tensor::requires_grad() and grad_fn() call it, so every reader sees the current history.
void refresh_view(TensorImpl& impl);

}  // namespace tg::internal
