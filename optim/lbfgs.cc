// tapegrad/optim/lbfgs.cc: L-BFGS and its strong-Wolfe line search, iteration by iteration as
// PyTorch 1.13's torch.optim.LBFGS (the parameters seen as one flat float64 vector).
#include "optim/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"

namespace tg::optim {

namespace {

using Flat = std::vector<double>;  // all parameters, concatenated in order

double dot(const Flat& a, const Flat& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double abs_max(const Flat& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}
double abs_sum(const Flat& a) {
  double s = 0;
  for (double v : a) s += std::fabs(v);
  return s;
}
void add_scaled(Flat& a, const Flat& b, double alpha) {  // a += alpha * b
  for (size_t i = 0; i < a.size(); ++i) a[i] += alpha * b[i];
}
Flat scaled(const Flat& a, double factor) {
  Flat out(a);
  for (double& v : out) v *= factor;
  return out;
}

// The parameters as one flat vector: reading gradients, moving the parameters, and the search's
// state kept in the parameters' ParamState.
class FlatParams {
 public:
  explicit FlatParams(std::vector<Tensor>& params) : params_(params) {
    for (const Tensor& p : params_) numel_ += static_cast<size_t>(p.numel());
  }
  size_t numel() const { return numel_; }

  // Every parameter's gradient (zeros where there is none), in float64.
  Flat gradient() const {
    Flat out;
    out.reserve(numel_);
    for (const Tensor& p : params_) {
      const Tensor g = p.grad();
      if (!g.defined()) {
        out.insert(out.end(), static_cast<size_t>(p.numel()), 0.0);
        continue;
      }
      TG_CHECK(g.shape() == p.shape(), "LBFGS: gradient ", shape_str(g.shape()), " does not match parameter ",
               shape_str(p.shape()));
      const std::vector<double> v = g.to_vector<double>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }

  // The parameters' values, to restore after a trial step of the line search.
  std::vector<ops::Array> values() const {
    std::vector<ops::Array> out;
    for (const Tensor& p : params_) out.push_back(p.data().clone());
    return out;
  }
  void set_values(const std::vector<ops::Array>& values) {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(Tensor(values[i]));
  }

  // parameters += t * direction
  void add(double t, const Flat& direction) {
    size_t offset = 0;
    for (Tensor& p : params_) {
      const size_t n = static_cast<size_t>(p.numel());
      const Flat piece(direction.begin() + offset, direction.begin() + offset + n);
      p.add_(tensor(piece, p.shape(), kFloat64).to(p.dtype()), t);
      offset += n;
    }
  }

  // A flat vector as float64 pieces of each parameter's shape, stored under `key`, and back.
  void store(std::vector<ParamState>& state, const std::string& key, const Flat& v) const {
    size_t offset = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      const size_t n = static_cast<size_t>(params_[i].numel());
      state[i].buffers[key] = tensor(Flat(v.begin() + offset, v.begin() + offset + n), params_[i].shape(), kFloat64);
      offset += n;
    }
  }
  Flat load(const std::vector<ParamState>& state, const std::string& key) const {
    Flat out;
    out.reserve(numel_);
    for (size_t i = 0; i < params_.size(); ++i) {
      auto it = state[i].buffers.find(key);
      TG_CHECK(it != state[i].buffers.end(), "LBFGS: the state of parameter ", i, " has no '", key, "'");
      TG_CHECK(it->second.shape() == params_[i].shape() && it->second.dtype() == kFloat64, "LBFGS: state '", key,
               "' of parameter ", i, " is ", dtype_name(it->second.dtype()), " ", shape_str(it->second.shape()),
               ", expected float64 ", shape_str(params_[i].shape()));
      const std::vector<double> v = it->second.to_vector<double>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }

 private:
  std::vector<Tensor>& params_;
  size_t numel_ = 0;
};

// The search's memory between step() calls (PyTorch's state of the first parameter).
struct SearchState {
  int64_t n_iter = 0, func_evals = 0;
  Flat d, prev_flat_grad;
  double t = 0, h_diag = 1, prev_loss = 0;
  std::deque<Flat> old_dirs, old_stps;
  std::deque<double> ro;
};

double scalar(const ParamState& s, const std::string& key) {
  auto it = s.buffers.find(key);
  TG_CHECK(it != s.buffers.end() && it->second.dim() == 0, "LBFGS: the state of parameter 0 has no scalar '", key, "'");
  const double v = it->second.item();
  TG_CHECK(std::isfinite(v), "LBFGS: state '", key, "' is ", v);
  return v;
}

SearchState load_state(const std::vector<ParamState>& state, const FlatParams& flat, int64_t history_size) {
  SearchState s;
  if (state[0].buffers.count("n_iter") == 0) return s;  // the first step()
  s.n_iter = static_cast<int64_t>(scalar(state[0], "n_iter"));
  s.func_evals = static_cast<int64_t>(scalar(state[0], "func_evals"));
  TG_CHECK(s.n_iter >= 0 && s.func_evals >= 0, "LBFGS: the state's n_iter ", s.n_iter, " and func_evals ",
           s.func_evals, " must be >= 0");
  if (s.n_iter == 0) return s;  // the first step() ended at once (the gradient was already small)
  s.t = scalar(state[0], "t");
  s.h_diag = scalar(state[0], "H_diag");
  s.prev_loss = scalar(state[0], "prev_loss");
  const double history = scalar(state[0], "history");
  TG_CHECK(history >= 0 && history <= static_cast<double>(history_size) && history == std::floor(history),
           "LBFGS: the state's history length ", history, " is not in [0, history_size ", history_size, "]");
  s.d = flat.load(state, "d");
  s.prev_flat_grad = flat.load(state, "prev_flat_grad");
  for (int64_t j = 0; j < static_cast<int64_t>(history); ++j) {
    s.old_dirs.push_back(flat.load(state, absl::StrCat("old_dirs.", j)));
    s.old_stps.push_back(flat.load(state, absl::StrCat("old_stps.", j)));
    s.ro.push_back(scalar(state[0], absl::StrCat("ro.", j)));
  }
  return s;
}

void store_state(std::vector<ParamState>& state, const FlatParams& flat, const SearchState& s) {
  for (ParamState& p : state) {
    p.buffers.clear();
    p.step = s.n_iter;
  }
  auto set = [&](const std::string& key, double v) { state[0].buffers[key] = full({}, v, kFloat64); };
  set("n_iter", static_cast<double>(s.n_iter));
  set("func_evals", static_cast<double>(s.func_evals));
  if (s.n_iter == 0) return;
  set("t", s.t);
  set("H_diag", s.h_diag);
  set("prev_loss", s.prev_loss);
  set("history", static_cast<double>(s.ro.size()));
  flat.store(state, "d", s.d);
  flat.store(state, "prev_flat_grad", s.prev_flat_grad);
  for (size_t j = 0; j < s.ro.size(); ++j) {
    flat.store(state, absl::StrCat("old_dirs.", j), s.old_dirs[j]);
    flat.store(state, absl::StrCat("old_stps.", j), s.old_stps[j]);
    set(absl::StrCat("ro.", j), s.ro[j]);
  }
}

// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds
// (the interval between x1 and x2 unless given); its midpoint if the cubic has none.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
  const auto [lo, hi] = bounds ? *bounds : std::make_pair(std::min(x1, x2), std::max(x1, x2));
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square < 0) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

struct Evaluation {
  double f;
  Flat g;
};

struct LineSearchResult {
  double f;
  Flat g;
  double t;
  int64_t evals;
};

// PyTorch's _strong_wolfe: a step t along d (from loss f, gradient g, slope gtd) meeting the
// strong Wolfe conditions, by bracketing and then zooming with cubic interpolation.
LineSearchResult strong_wolfe(const std::function<Evaluation(double)>& evaluate_at, double t, const Flat& d, double f,
                              const Flat& g, double gtd, double tolerance_change) {
  constexpr double c1 = 1e-4, c2 = 0.9;
  constexpr int64_t max_ls = 25;
  const double d_norm = abs_max(d);
  Evaluation now = evaluate_at(t);
  int64_t evals = 1;
  double gtd_new = dot(now.g, d);
  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  Flat g_prev = g;
  bool done = false;
  int64_t ls_iter = 0;
  // The bracket: one point when done, else two.
  std::vector<double> bracket, bracket_f, bracket_gtd;
  std::vector<Flat> bracket_g;
  auto bracket_with_previous = [&] {
    bracket = {t_prev, t};
    bracket_f = {f_prev, now.f};
    bracket_g = {g_prev, now.g};
    bracket_gtd = {gtd_prev, gtd_new};
  };
  while (ls_iter < max_ls) {
    if (now.f > f + c1 * t * gtd || (ls_iter > 1 && now.f >= f_prev)) {
      bracket_with_previous();
      break;
    }
    if (std::fabs(gtd_new) <= -c2 * gtd) {
      bracket = {t};
      bracket_f = {now.f};
      bracket_g = {now.g};
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      bracket_with_previous();
      break;
    }
    const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10;
    const double previous_t = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, now.f, gtd_new, std::make_pair(min_step, max_step));
    t_prev = previous_t;
    f_prev = now.f;
    g_prev = now.g;
    gtd_prev = gtd_new;
    now = evaluate_at(t);
    ++evals;
    gtd_new = dot(now.g, d);
    ++ls_iter;
  }
  if (ls_iter == max_ls) {
    bracket = {0, t};
    bracket_f = {f, now.f};
    bracket_g = {g, now.g};
  }
  // Zoom: shrink the bracket until a point meets the conditions.
  bool insufficient_progress = false;
  size_t low = bracket_f.front() <= bracket_f.back() ? 0 : 1, high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::fabs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
    t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]);
    // Too close to an end of the bracket: move to 0.1 of its length from the nearer end (at
    // once if at or past an end, or after two such trials in a row).
    const double b_max = std::max(bracket[0], bracket[1]), b_min = std::min(bracket[0], bracket[1]);
    const double eps = 0.1 * (b_max - b_min);
    if (std::min(b_max - t, t - b_min) < eps) {
      if (insufficient_progress || t >= b_max || t <= b_min) {
        t = std::fabs(t - b_max) < std::fabs(t - b_min) ? b_max - eps : b_min + eps;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    now = evaluate_at(t);
    ++evals;
    gtd_new = dot(now.g, d);
    ++ls_iter;
    if (now.f > f + c1 * t * gtd || now.f >= bracket_f[low]) {
      // Not sufficiently lower, or above the lowest point: the new high end.
      bracket[high] = t;
      bracket_f[high] = now.f;
      bracket_g[high] = now.g;
      bracket_gtd[high] = gtd_new;
      low = bracket_f[0] <= bracket_f[1] ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::fabs(gtd_new) <= -c2 * gtd) {
        done = true;
      } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low];  // the old low end becomes the high end
        bracket_f[high] = bracket_f[low];
        bracket_g[high] = bracket_g[low];
        bracket_gtd[high] = bracket_gtd[low];
      }
      bracket[low] = t;
      bracket_f[low] = now.f;
      bracket_g[low] = now.g;
      bracket_gtd[low] = gtd_new;
    }
  }
  return {bracket_f[low], bracket_g[low], bracket[low], evals};
}

}  // namespace

LBFGS::LBFGS(std::vector<Tensor> params, double lr, LBFGSOptions opts)
    : Optimizer({ParamGroup{std::move(params), lr}}, "LBFGS"), options(std::move(opts)) {
  TG_CHECK(options.max_iter > 0, "LBFGS: max_iter must be positive, got ", options.max_iter);
  TG_CHECK(!options.max_eval || *options.max_eval > 0, "LBFGS: max_eval must be positive, got ", *options.max_eval);
  TG_CHECK(options.history_size > 0, "LBFGS: history_size must be positive, got ", options.history_size);
  TG_CHECK(options.tolerance_grad >= 0 && options.tolerance_change >= 0, "LBFGS: tolerances must be >= 0, got ",
           options.tolerance_grad, " and ", options.tolerance_change);
  TG_CHECK(options.line_search_fn.empty() || options.line_search_fn == "strong_wolfe",
           "LBFGS: line_search_fn must be \"\" or \"strong_wolfe\", got \"", options.line_search_fn, "\"");
  TG_CHECK(!param_groups()[0].params.empty(), "LBFGS: no parameters");
}

void LBFGS::update(const ParamGroup&, Tensor&, const Tensor&, ParamState&) {
  throw Error("LBFGS: step() needs a closure that re-evaluates the loss: call step(closure)");
}

Tensor LBFGS::step(const Closure& closure) {
  TG_CHECK(closure != nullptr, "LBFGS: step() needs a closure");
  NoGradGuard no_grad;
  ParamGroup& group = param_groups()[0];
  const double lr = group.lr;
  const int64_t max_eval = options.max_eval ? *options.max_eval : options.max_iter * 5 / 4;
  FlatParams flat(group.params);
  SearchState s = load_state(state(), flat, options.history_size);
  auto evaluate = [&] {
    AutoGradMode recording(true);
    Tensor loss = closure();
    TG_CHECK(loss.defined() && loss.numel() == 1, "LBFGS: the closure must return the loss, a one-element tensor; got ",
             loss.defined() ? shape_str(loss.shape()) : "an undefined tensor");
    return loss;
  };

  const Tensor orig_loss = evaluate();
  double loss = orig_loss.item();
  int64_t current_evals = 1;
  ++s.func_evals;
  Flat flat_grad = flat.gradient();
  bool opt_cond = abs_max(flat_grad) <= options.tolerance_grad;
  if (opt_cond) {
    store_state(state(), flat, s);
    return orig_loss;
  }
  for (int64_t n_iter = 1; n_iter <= options.max_iter; ++n_iter) {
    ++s.n_iter;
    // The direction: steepest descent at first, then the two-loop recursion over the history.
    if (s.n_iter == 1) {
      s.d = scaled(flat_grad, -1);
      s.old_dirs.clear();
      s.old_stps.clear();
      s.ro.clear();
      s.h_diag = 1;
    } else {
      Flat y = flat_grad;
      add_scaled(y, s.prev_flat_grad, -1);
      Flat step_taken = scaled(s.d, s.t);
      const double ys = dot(y, step_taken);
      if (ys > 1e-10) {
        if (static_cast<int64_t>(s.old_dirs.size()) == options.history_size) {
          s.old_dirs.pop_front();
          s.old_stps.pop_front();
          s.ro.pop_front();
        }
        s.h_diag = ys / dot(y, y);
        s.old_dirs.push_back(std::move(y));
        s.old_stps.push_back(std::move(step_taken));
        s.ro.push_back(1.0 / ys);
      }
      const size_t k = s.old_dirs.size();
      std::vector<double> al(k);
      Flat q = scaled(flat_grad, -1);
      for (size_t i = k; i-- > 0;) {
        al[i] = dot(s.old_stps[i], q) * s.ro[i];
        add_scaled(q, s.old_dirs[i], -al[i]);
      }
      s.d = scaled(q, s.h_diag);
      for (size_t i = 0; i < k; ++i) {
        const double be_i = dot(s.old_dirs[i], s.d) * s.ro[i];
        add_scaled(s.d, s.old_stps[i], al[i] - be_i);
      }
    }
    s.prev_flat_grad = flat_grad;
    s.prev_loss = loss;
    // The step length.
    s.t = s.n_iter == 1 ? std::min(1.0, 1.0 / abs_sum(flat_grad)) * lr : lr;
    const double gtd = dot(flat_grad, s.d);
    if (gtd > -options.tolerance_change) break;  // not a descent direction any more
    int64_t ls_evals = 0;
    if (options.line_search_fn == "strong_wolfe") {
      const std::vector<ops::Array> x_init = flat.values();
      auto evaluate_at = [&](double t) {
        flat.add(t, s.d);
        Evaluation e{evaluate().item(), flat.gradient()};
        flat.set_values(x_init);
        return e;
      };
      LineSearchResult r = strong_wolfe(evaluate_at, s.t, s.d, loss, flat_grad, gtd, options.tolerance_change);
      loss = r.f;
      flat_grad = std::move(r.g);
      s.t = r.t;
      ls_evals = r.evals;
      flat.add(s.t, s.d);
      opt_cond = abs_max(flat_grad) <= options.tolerance_grad;
    } else {
      flat.add(s.t, s.d);
      if (n_iter != options.max_iter) {
        // Re-evaluated except after the last iteration (its loss would go unused).
        loss = evaluate().item();
        flat_grad = flat.gradient();
        opt_cond = abs_max(flat_grad) <= options.tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    s.func_evals += ls_evals;
    if (n_iter == options.max_iter || current_evals >= max_eval || opt_cond) break;
    if (abs_max(s.d) * std::fabs(s.t) <= options.tolerance_change) break;  // the step is too small
    if (std::fabs(loss - s.prev_loss) < options.tolerance_change) break;  // the loss stopped moving
  }
  store_state(state(), flat, s);
  return orig_loss;
}

}  // namespace tg::optim
