// tapegrad/ops/ctc_loss.cc: see ctc_loss.h.
// Note [CTC recursions]: the extended target l' = (blank, l1, blank, l2, ..., lS, blank) has
// 2S + 1 states. With y_t(c) = exp(log_probs[t][c]),
//   alpha_0(0) = y_0(blank), alpha_0(1) = y_0(l1),
//   alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [l'_s != blank, l'_s != l'_{s-2}] alpha_{t-1}(s-2)) y_t(l'_s),
// beta the same from the end, p = alpha_{T-1}(2S) + alpha_{T-1}(2S-1), and since both alpha_t(s)
// and beta_t(s) contain y_t(l'_s),
//   d(-log p) / d log y_t(c) = -sum_{s: l'_s = c} alpha_t(s) beta_t(s) / (p y_t(c)).
// (PyTorch returns y_t(c) plus this, the gradient w.r.t. the logits before a log_softmax; through
// a log_softmax both give the same result, and this one is the derivative of the loss itself.)
#include "ops/ctc_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg::ops {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double log_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// Sample n's labels, from padded [N, S] or concatenated targets.
class Labels {
 public:
  explicit Labels(const CtcInputs& in) : in_(in), t_(in.targets.contiguous()) {
    int64_t offset = 0;
    for (int64_t len : in.target_lengths) {
      offsets_.push_back(offset);
      offset += len;
    }
  }
  int64_t at(int64_t n, int64_t i) const {
    const int64_t* p = t_.data<int64_t>();
    return t_.dim() == 2 ? p[n * t_.size(1) + i] : p[offsets_[n] + i];
  }
  // l'_s of sample n.
  int64_t extended(int64_t n, int64_t s) const { return s % 2 == 0 ? in_.blank : at(n, s / 2); }

 private:
  const CtcInputs& in_;
  const Array t_;
  std::vector<int64_t> offsets_;
};

int64_t max_states(const CtcInputs& in) {
  int64_t s = 0;
  for (int64_t len : in.target_lengths) s = std::max(s, len);
  return 2 * s + 1;
}

}  // namespace

void check_ctc_inputs(const CtcInputs& in) {
  const Array& lp = in.log_probs;
  TG_CHECK(lp.dim() == 3, "ctc_loss: log_probs must be [T, N, C], got ", shape_str(lp.shape()));
  TG_CHECK(is_floating(lp.dtype()), "ctc_loss: log_probs must be floating, got ", dtype_name(lp.dtype()));
  const int64_t t = lp.size(0), n = lp.size(1), c = lp.size(2);
  TG_CHECK(in.blank >= 0 && in.blank < c, "ctc_loss: blank ", in.blank, " is outside the ", c, " classes");
  TG_CHECK(in.targets.dtype() == kInt64, "ctc_loss: targets must be int64, got ", dtype_name(in.targets.dtype()));
  TG_CHECK(static_cast<int64_t>(in.input_lengths.size()) == n && static_cast<int64_t>(in.target_lengths.size()) == n,
           "ctc_loss: ", in.input_lengths.size(), " input lengths and ", in.target_lengths.size(),
           " target lengths for a batch of ", n);
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    TG_CHECK(in.input_lengths[i] >= 0 && in.input_lengths[i] <= t, "ctc_loss: input_lengths[", i, "] = ",
             in.input_lengths[i], " is outside [0, ", t, "]");
    TG_CHECK(in.target_lengths[i] >= 0, "ctc_loss: target_lengths[", i, "] = ", in.target_lengths[i], " is negative");
    total += in.target_lengths[i];
  }
  if (in.targets.dim() == 2) {
    TG_CHECK(in.targets.size(0) == n, "ctc_loss: targets ", shape_str(in.targets.shape()), " do not have ", n, " rows");
    for (int64_t i = 0; i < n; ++i)
      TG_CHECK(in.target_lengths[i] <= in.targets.size(1), "ctc_loss: target_lengths[", i, "] = ", in.target_lengths[i],
               " exceeds the targets' length ", in.targets.size(1));
  } else {
    TG_CHECK(in.targets.dim() == 1 && in.targets.numel() == total, "ctc_loss: concatenated targets ",
             shape_str(in.targets.shape()), " must hold the sum of target_lengths, ", total);
  }
  const Labels labels(in);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < in.target_lengths[i]; ++k) {
      const int64_t l = labels.at(i, k);
      TG_CHECK(l >= 0 && l < c && l != in.blank, "ctc_loss: target ", k, " of sample ", i, " is ", l,
               ", not a class in [0, ", c, ") other than blank ", in.blank);
    }
}

CtcForward ctc_loss_forward(const CtcInputs& in) {
  check_ctc_inputs(in);
  const Array lp_d = in.log_probs.to(kFloat64).contiguous();
  const int64_t n = lp_d.size(1), c = lp_d.size(2), time = lp_d.size(0), states = max_states(in);
  const double* lp = lp_d.data<double>();
  auto y = [&](int64_t t, int64_t b, int64_t k) { return lp[(t * n + b) * c + k]; };
  const Labels labels(in);
  CtcForward out{Array::empty({n}, kFloat64), Array::full({n, time, states}, kNegInf, kFloat64)};
  double* nll = out.nll.data<double>();
  double* alpha = out.log_alpha.data<double>();
#pragma omp parallel for schedule(dynamic) if (n > 1 && time * states >= 4096)
  for (int64_t b = 0; b < n; ++b) {
    const int64_t len = in.input_lengths[b], s_count = 2 * in.target_lengths[b] + 1;
    if (len == 0) {
      nll[b] = in.target_lengths[b] == 0 ? 0.0 : std::numeric_limits<double>::infinity();
      continue;
    }
    double* a = alpha + b * time * states;
    a[0] = y(0, b, in.blank);
    if (s_count > 1) a[1] = y(0, b, labels.extended(b, 1));
    for (int64_t t = 1; t < len; ++t) {
      const double* prev = a + (t - 1) * states;
      double* cur = a + t * states;
      for (int64_t s = 0; s < s_count; ++s) {
        const int64_t l = labels.extended(b, s);
        double v = prev[s];
        if (s >= 1) v = log_add(v, prev[s - 1]);
        if (s >= 2 && l != in.blank && l != labels.extended(b, s - 2)) v = log_add(v, prev[s - 2]);
        cur[s] = v == kNegInf ? kNegInf : v + y(t, b, l);
      }
    }
    const double* last = a + (len - 1) * states;
    nll[b] = -(s_count > 1 ? log_add(last[s_count - 1], last[s_count - 2]) : last[0]);
  }
  out.nll = out.nll.to(in.log_probs.dtype());
  return out;
}

Array ctc_loss_backward(const CtcInputs& in, const Array& grad_nll_in, const CtcForward& forward, bool zero_infinity) {
  const Array lp_d = in.log_probs.to(kFloat64).contiguous();
  const int64_t n = lp_d.size(1), c = lp_d.size(2), time = lp_d.size(0), states = max_states(in);
  TG_CHECK(grad_nll_in.numel() == n, "ctc_loss backward: gradient ", shape_str(grad_nll_in.shape()), " for a batch of ", n);
  const Array grad_nll = grad_nll_in.to(kFloat64).contiguous(), nll_d = forward.nll.to(kFloat64).contiguous();
  const double* lp = lp_d.data<double>();
  auto y = [&](int64_t t, int64_t b, int64_t k) { return lp[(t * n + b) * c + k]; };
  const Labels labels(in);
  Array grad = Array::zeros({time, n, c}, kFloat64);
  double* g = grad.data<double>();
  const double* alpha = forward.log_alpha.data<double>();
#pragma omp parallel for schedule(dynamic) if (n > 1 && time * states >= 4096)
  for (int64_t b = 0; b < n; ++b) {
    const int64_t len = in.input_lengths[b], s_count = 2 * in.target_lengths[b] + 1;
    const double nll = nll_d.data<double>()[b], scale = grad_nll.data<double>()[b];
    if (len == 0 || std::isinf(nll) || scale == 0) {
      // No alignment: the loss is +inf whatever log_probs are (gradient 0 with zero_infinity;
      // without it PyTorch gives NaN, and so do we).
      if (std::isinf(nll) && !zero_infinity && len > 0)
        for (int64_t t = 0; t < len; ++t)
          for (int64_t k = 0; k < c; ++k) g[(t * n + b) * c + k] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    std::vector<double> beta(states, kNegInf), next(states, kNegInf), occupancy(c);
    const double* a = alpha + b * time * states;
    for (int64_t t = len - 1; t >= 0; --t) {
      if (t == len - 1) {
        beta[s_count - 1] = y(t, b, in.blank);
        if (s_count > 1) beta[s_count - 2] = y(t, b, labels.extended(b, s_count - 2));
      } else {
        for (int64_t s = 0; s < s_count; ++s) {
          const int64_t l = labels.extended(b, s);
          double v = next[s];
          if (s + 1 < s_count) v = log_add(v, next[s + 1]);
          if (s + 2 < s_count && l != in.blank && l != labels.extended(b, s + 2)) v = log_add(v, next[s + 2]);
          beta[s] = v == kNegInf ? kNegInf : v + y(t, b, l);
        }
      }
      std::fill(occupancy.begin(), occupancy.end(), kNegInf);
      for (int64_t s = 0; s < s_count; ++s) {
        const int64_t l = labels.extended(b, s);
        occupancy[l] = log_add(occupancy[l], a[t * states + s] + beta[s]);
      }
      for (int64_t k = 0; k < c; ++k)
        if (occupancy[k] != kNegInf) g[(t * n + b) * c + k] = -scale * std::exp(occupancy[k] + nll - y(t, b, k));
      std::swap(beta, next);
    }
  }
  return grad.to(in.log_probs.dtype());
}

}  // namespace tg::ops
