// tapegrad/autograd/sampling.cc: the random factories that draw integers or categories: randint,
// randperm, bernoulli of a probability tensor, multinomial. Every draw is unbiased (rejection,
// never a bare modulo) and comes from the given generator or the default one.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/tensor.h"

namespace tg {

namespace {

ops::Generator& generator(ops::Generator* gen) { return gen ? *gen : ops::default_generator(); }

// Uniform in [0, range), range >= 1: rejection of the top, biased remainder of the 64-bit range.
uint64_t uniform_below(ops::Generator& gen, uint64_t range) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % range;
  uint64_t v;
  do {
    v = gen.next_u64();
  } while (v >= limit);
  return v % range;
}

}  // namespace

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options, ops::Generator* gen) {
  TG_CHECK(low < high, "randint: low ", low, " must be below high ", high);
  ops::Array a = ops::Array::empty(shape, kInt64);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<int64_t>()[i] = low + static_cast<int64_t>(uniform_below(generator(gen), range));
  return Tensor(a.to(options.dtype), options.requires_grad);
}

Tensor randperm(int64_t n, ops::Generator* gen) {
  TG_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  ops::Array a = ops::Array::empty({n}, kInt64);
  int64_t* p = a.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[uniform_below(generator(gen), static_cast<uint64_t>(i) + 1)]);  // Fisher-Yates
  return Tensor(a);
}

Tensor bernoulli(const Tensor& p, ops::Generator* gen) {
  TG_CHECK(is_floating(p.dtype()), "bernoulli: probabilities must be floating, got ", dtype_name(p.dtype()));
  const std::vector<double> probs = p.to_vector<double>();
  std::vector<double> out(probs.size());
  for (size_t i = 0; i < probs.size(); ++i) {
    TG_CHECK(probs[i] >= 0 && probs[i] <= 1, "bernoulli: probability ", probs[i], " at ", i, " is not in [0, 1]");
    out[i] = generator(gen).uniform() < probs[i] ? 1.0 : 0.0;
  }
  return Tensor(ops::Array::from_vector(out, p.shape()).to(p.dtype()));
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, ops::Generator* gen) {
  TG_CHECK(probs.dim() == 1 || probs.dim() == 2, "multinomial: probabilities must be [C] or [N, C], got ",
           shape_str(probs.shape()));
  TG_CHECK(is_floating(probs.dtype()), "multinomial: probabilities must be floating, got ", dtype_name(probs.dtype()));
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1, classes = probs.size(-1);
  TG_CHECK(num_samples > 0, "multinomial: num_samples must be positive, got ", num_samples);
  const std::vector<double> w = probs.to_vector<double>();
  std::vector<int64_t> out;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(w.begin() + r * classes, w.begin() + (r + 1) * classes);
    int64_t positive = 0;
    for (double v : row) {
      TG_CHECK(std::isfinite(v) && v >= 0, "multinomial: weight ", v, " in row ", r, " is negative or not finite");
      positive += v > 0;
    }
    TG_CHECK(positive > 0, "multinomial: row ", r, " has no positive weight");
    TG_CHECK(replacement || num_samples <= positive, "multinomial: ", num_samples, " samples without replacement from ",
             positive, " categories with positive weight (row ", r, ")");
    for (int64_t s = 0; s < num_samples; ++s) {
      double total = 0;
      for (double v : row) total += v;
      const double u = generator(gen).uniform() * total;
      double acc = 0;
      int64_t pick = -1;
      for (int64_t c = 0; c < classes; ++c) {
        if (row[c] <= 0) continue;
        pick = c;  // the last positive category absorbs rounding at the top
        acc += row[c];
        if (u < acc) break;
      }
      out.push_back(pick);
      if (!replacement) row[pick] = 0;
    }
  }
  Shape shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  return tensor(out, shape, kInt64);
}

}  // namespace tg
