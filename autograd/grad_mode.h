// tapegrad/autograd/grad_mode.h: whether ops are recorded on the tape (per thread).
//   { tg::NoGradGuard no_grad; auto y = model(x); }   // nothing recorded, no graph kept
#pragma once

namespace tg {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Disables recording for its scope (like torch::NoGradGuard).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Sets recording on or off for its scope.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

// Inference mode for its scope (torch::InferenceMode): nothing is recorded, as under
// NoGradGuard, and every tensor made inside is an inference tensor. An inference tensor can be
// read anywhere, but an op recording for backward refuses to save one, and an in-place write to
// one outside InferenceMode is refused (autograd could not have followed it).
//   { tg::InferenceMode guard; auto y = model(x); }
class InferenceMode {
 public:
  explicit InferenceMode(bool enabled = true);
  ~InferenceMode();
  InferenceMode(const InferenceMode&) = delete;
  InferenceMode& operator=(const InferenceMode&) = delete;
  static bool is_enabled();

 private:
  bool prev_, prev_grad_;
};

}  // namespace tg
