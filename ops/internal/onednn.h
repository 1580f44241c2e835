// tapegrad/ops/internal/onednn.h: what every oneDNN kernel of tapegrad shares: the CPU engine, a
// stream per calling thread, user-managed scratchpads, uninitialized float buffers and the
// primitive cache. Primitives are built with a user scratchpad so that concurrent calls (each with
// its own stream and buffers) never share memory.
//
// Note [oneDNN primitive cache]: building a primitive (choosing and JIT-compiling a kernel) costs
// far more than running it on MNIST-sized tensors, so each kernel keeps its primitives in a
// process-wide PrimitiveCache, built once per key. oneDNN fixes a primitive's thread count (its
// work split) when it is built, so the cache keys every entry by the thread count too: after
// set_num_threads a shape gets primitives built for the new count.
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/array.h"
#include "ops/parallel.h"

namespace tg::ops::onednn {

dnnl::engine& engine();
dnnl::stream& stream();  // this thread's
dnnl::primitive_attr user_scratchpad();
// An uninitialized buffer of at least `bytes` bytes that lives as long as the returned Array.
Array buffer(size_t bytes);

// Note [Packed weights]: a kernel that wants its weights in a blocked layout reorders them on
// every call, which on a batch-1 forward costs about a fifth of the time. When the caller says the
// weights will not be differentiated (inference: nothing records), the reordered copy is kept and
// served again for as long as the weights' storage is alive and its version (Note [Version
// counter] in ops/storage.h) is unchanged: every write through tapegrad (in-place ops,
// optimizers, copy_into, loaders, broadcasts) bumps it, so a changed weight is packed again. Keys
// are the storage, the view's address and both layouts; a slot whose storage died is dropped at
// the next miss. The cost is one packed copy of each weight used in inference.
// packed_weights() is thread-safe; `reorder` must turn `user` into `want`.
Array packed_weights(const Array& weights, const dnnl::memory::desc& user, const dnnl::memory::desc& want,
                     const dnnl::reorder& reorder);
// Slots held now (tests).
size_t packed_weight_slots();

// Entries built on first use and kept (std::map: they never move, so the pointers stay valid),
// at most `capacity` of them. Thread-safe.
template <typename Key, typename Entry>
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t capacity = std::numeric_limits<size_t>::max()) : capacity_(capacity) {}

  // The entry of `key` for the current thread count, built by build() the first time; nullptr
  // when it is new and the cache is full.
  template <typename Build>
  const Entry* get(const Key& key, Build build) {
    std::pair<int, Key> full{get_num_threads(), key};
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(full);
    if (it == entries_.end()) {
      if (entries_.size() >= capacity_) return nullptr;
      it = entries_.emplace(std::move(full), build()).first;
    }
    return &it->second;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::map<std::pair<int, Key>, Entry> entries_;
};

}  // namespace tg::ops::onednn
