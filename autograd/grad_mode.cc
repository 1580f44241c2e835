// tapegrad/autograd/grad_mode.cc: the thread-local recording flag.
#include "autograd/grad_mode.h"

namespace tg {

namespace {
thread_local bool grad_mode_enabled = true;
}  // namespace

bool GradMode::is_enabled() { return grad_mode_enabled; }
void GradMode::set_enabled(bool enabled) { grad_mode_enabled = enabled; }

}  // namespace tg
