// tapegrad/autograd/grad_mode.cc: the thread-local recording and inference-mode flags.
#include "autograd/grad_mode.h"

namespace tg {

namespace {
thread_local bool grad_mode_enabled = true;
thread_local bool inference_mode_enabled = false;
}  // namespace

bool GradMode::is_enabled() { return grad_mode_enabled; }
void GradMode::set_enabled(bool enabled) { grad_mode_enabled = enabled; }

InferenceMode::InferenceMode(bool enabled) : prev_(inference_mode_enabled), prev_grad_(grad_mode_enabled) {
  inference_mode_enabled = enabled;
  if (enabled) grad_mode_enabled = false;
}
InferenceMode::~InferenceMode() {
  inference_mode_enabled = prev_;
  grad_mode_enabled = prev_grad_;
}
bool InferenceMode::is_enabled() { return inference_mode_enabled; }

}  // namespace tg
