// tapegrad/ops/onednn.cc: the engine, streams, scratchpads and buffers of ops/internal/onednn.h.
#include "ops/internal/onednn.h"

namespace tg::ops::onednn {

dnnl::engine& engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

Array buffer(size_t bytes) { return Array::empty({static_cast<int64_t>((bytes + 3) / 4)}, kFloat32); }

}  // namespace tg::ops::onednn
