// tapegrad/ops/internal/onednn.h: what every oneDNN kernel of tapegrad shares: the CPU engine, a
// stream per calling thread, user-managed scratchpads and uninitialized float buffers. Primitives
// are built with a user scratchpad so that concurrent calls (each with its own stream and
// buffers) never share memory.
#pragma once

#include <cstddef>

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/array.h"

namespace tg::ops::onednn {

dnnl::engine& engine();
dnnl::stream& stream();  // this thread's
dnnl::primitive_attr user_scratchpad();
// An uninitialized buffer of at least `bytes` bytes that lives as long as the returned Array.
Array buffer(size_t bytes);

}  // namespace tg::ops::onednn
