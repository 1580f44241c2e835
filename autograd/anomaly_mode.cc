// tapegrad/autograd/anomaly_mode.cc: the per-thread anomaly flag and the non-finite scan.
#include "autograd/anomaly_mode.h"

#include <cmath>

namespace tg::autograd {

namespace {
thread_local bool anomaly_enabled = false;
thread_local std::string current_backward_description;
}  // namespace

const std::string& current_backward() { return current_backward_description; }
CurrentBackwardScope::CurrentBackwardScope(std::string description) : previous_(current_backward_description) {
  current_backward_description = std::move(description);
}
CurrentBackwardScope::~CurrentBackwardScope() { current_backward_description = previous_; }

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(anomaly_enabled) { anomaly_enabled = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { anomaly_enabled = previous_; }
bool DetectAnomalyGuard::is_enabled() { return anomaly_enabled; }

int64_t first_non_finite(const ops::Array& a) {
  if (!a.defined() || !is_floating(a.dtype())) return -1;
  const ops::Array c = a.contiguous();
  return dispatch_floating(c.dtype(), "detect_anomaly", [&](auto tag) -> int64_t {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel(); ++i) {
      if (!std::isfinite(p[i])) return i;
    }
    return -1;
  });
}

}  // namespace tg::autograd
