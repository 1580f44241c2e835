// tapegrad/ops/print.cc: formatting of arrays for std::ostream.
#include "ops/print.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace tg::ops {

namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

struct Format {
  bool integer;     // every value is integral (print "1." style for floats, like torch)
  bool scientific;  // very large or very small magnitudes
  int width;
};

std::string format_value(double v, DType dtype, const Format& f) {
  char buf[64];
  if (dtype == kBool) return v != 0 ? "true" : "false";
  if (dtype == kInt64) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else if (std::isnan(v)) {
    std::snprintf(buf, sizeof buf, "nan");
  } else if (std::isinf(v)) {
    std::snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
  } else if (f.scientific) {
    std::snprintf(buf, sizeof buf, "%.4e", v);
  } else if (f.integer) {
    std::snprintf(buf, sizeof buf, "%.0f.", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", v);
  }
  return buf;
}

// Indices printed along a dim of size n: all, or the first and last kEdgeItems.
std::vector<int64_t> shown(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  if (!summarize || n <= 2 * kEdgeItems) {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);  // "..."
    for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

void print_rec(std::ostream& os, const Array& a, Shape& index, int64_t dim, const Format& f, bool summarize,
               int indent) {
  if (dim == a.dim()) {
    const std::string s = format_value(a.at(index), a.dtype(), f);
    os << std::string(std::max<int>(0, f.width - static_cast<int>(s.size())), ' ') << s;
    return;
  }
  os << "[";
  const std::vector<int64_t> idx = shown(a.size(dim), summarize);
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      os << ",";
      if (dim == a.dim() - 1) {
        os << " ";
      } else {
        os << std::string(a.dim() - dim - 1, '\n') << std::string(indent + dim + 1, ' ');
      }
    }
    if (idx[k] < 0) {
      os << "...";
      continue;
    }
    index[dim] = idx[k];
    print_rec(os, a, index, dim + 1, f, summarize, indent);
  }
  os << "]";
}

}  // namespace

void print_array(std::ostream& os, const Array& a, const std::string& suffix) {
  if (!a.defined()) {
    os << "tensor(undefined)";
    return;
  }
  const bool summarize = a.numel() > kSummarizeAbove;
  Format f{true, false, 0};
  // One scan of all values (cheap compared with printing) picks one format for the whole tensor:
  // integral or not, scientific or not, and the width of the widest value (the most negative or
  // the largest) so columns line up.
  const Array c = a.contiguous().to(kFloat64);
  double max_abs = 0, min_abs = INFINITY, lo = INFINITY, hi = -INFINITY;
  bool has_nan = false, integral = true;
  for (int64_t i = 0; i < c.numel(); ++i) {
    const double v = c.data<double>()[i];
    if (std::isnan(v)) {
      has_nan = true;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (!std::isfinite(v)) continue;
    if (v != std::floor(v)) integral = false;
    max_abs = std::max(max_abs, std::fabs(v));
    if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
  }
  if (is_floating(a.dtype())) {
    f.integer = integral;
    f.scientific = max_abs >= 1e8 || (min_abs < 1e-4 && min_abs != INFINITY && !integral);
  }
  if (has_nan) f.width = 3;
  if (lo <= hi) {
    f.width = std::max<int>(f.width, format_value(lo, a.dtype(), f).size());
    f.width = std::max<int>(f.width, format_value(hi, a.dtype(), f).size());
  }
  os << "tensor(";
  Shape index(a.dim(), 0);
  print_rec(os, a, index, 0, f, summarize, /*indent=*/7);
  os << ", shape=" << shape_str(a.shape()) << ", dtype=" << dtype_name(a.dtype()) << suffix << ")";
}

}  // namespace tg::ops
