// tapegrad/autograd/functions/einsum.cc: einsum as a composition of rows: each operand's private
// indices are summed out, then the operands are contracted left to right, each pair as one
// (batched) matmul after permute / flatten, and the result is permuted to the output's order.
// Supports explicit ("ij,jk->ik") and implicit ("ij,jk") outputs, "..." for broadcast dims, and
// size-1 broadcasting; a repeated index within one operand (a diagonal) is refused.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/functions/common.h"
#include "autograd/indexing.h"

namespace tg {

namespace {

// Letters are their char code; the k-th dim covered by "..." (left to right) is 256 + k.
using Label = int;
constexpr Label kEllipsisBase = 256;

std::string label_name(Label l) {
  return l >= kEllipsisBase ? "...[" + std::to_string(l - kEllipsisBase) + "]" : std::string(1, static_cast<char>(l));
}

struct Labeled {
  Tensor t;
  std::vector<Label> labels;  // one per dim of t
};

// The labels of one term ("ab...c") for a tensor of `rank` dims, with `ellipsis_rank` dims in all.
std::vector<Label> parse_term(const std::string& term, int64_t rank, int64_t ellipsis_rank, const std::string& what) {
  std::vector<Label> letters_before, letters_after;
  bool seen_ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term.compare(i, 3, "...") == 0) {
      TG_CHECK(!seen_ellipsis, "einsum: ", what, " '", term, "' has more than one '...'");
      seen_ellipsis = true;
      i += 2;
      continue;
    }
    const char ch = term[i];
    TG_CHECK(std::isalpha(static_cast<unsigned char>(ch)), "einsum: ", what, " '", term, "' has the invalid character '", std::string(1, ch), "'");
    (seen_ellipsis ? letters_after : letters_before).push_back(ch);
  }
  const int64_t letters = static_cast<int64_t>(letters_before.size() + letters_after.size());
  const int64_t covered = rank < 0 ? ellipsis_rank : rank - letters;  // rank < 0: the output
  TG_CHECK(covered >= 0 && (seen_ellipsis || covered == 0), "einsum: ", what, " '", term, "' has ", letters,
           " indices for a ", rank, "-d tensor");
  std::vector<Label> labels = letters_before;
  for (int64_t k = 0; k < covered; ++k) labels.push_back(static_cast<Label>(kEllipsisBase + ellipsis_rank - covered + k));
  labels.insert(labels.end(), letters_after.begin(), letters_after.end());
  return labels;
}

// Sums out the dims whose labels are not in `keep`.
void sum_out(Labeled& x, const std::set<Label>& keep) {
  std::vector<int64_t> dims;
  std::vector<Label> rest;
  for (size_t d = 0; d < x.labels.size(); ++d) {
    if (keep.count(x.labels[d])) {
      rest.push_back(x.labels[d]);
    } else {
      dims.push_back(static_cast<int64_t>(d));
    }
  }
  if (dims.empty()) return;
  x.t = sum(x.t, dims);
  x.labels = rest;
}

void permute_to(Labeled& x, const std::vector<Label>& order) {
  Shape dims;
  for (Label l : order) dims.push_back(std::find(x.labels.begin(), x.labels.end(), l) - x.labels.begin());
  bool identity = true;
  for (size_t i = 0; i < dims.size(); ++i) identity = identity && dims[i] == static_cast<int64_t>(i);
  if (!identity) x.t = permute(x.t, dims);
  x.labels = order;
}

// Dims [start, start + count) as one dim (a new one of size 1 when count is 0).
Tensor merge(const Tensor& t, int64_t start, int64_t count) {
  if (count == 0) return unsqueeze(t, start);
  return count == 1 ? t : flatten(t, start, start + count - 1);
}

// Expands the dims of x labeled in `labels` to the sizes in `size` (size-1 broadcasting).
void broadcast(Labeled& x, const std::map<Label, int64_t>& size) {
  Shape target = x.t.shape();
  for (size_t d = 0; d < x.labels.size(); ++d) target[d] = size.at(x.labels[d]);
  if (target != x.t.shape()) x.t = expand(x.t, target);
}

// The contraction of a and b keeping the labels in `keep`.
Labeled contract(Labeled a, Labeled b, const std::set<Label>& keep, const std::map<Label, int64_t>& size) {
  auto in = [](const Labeled& x, Label l) { return std::find(x.labels.begin(), x.labels.end(), l) != x.labels.end(); };
  std::set<Label> a_keep = keep, b_keep = keep;
  for (Label l : b.labels) a_keep.insert(l);
  for (Label l : a.labels) b_keep.insert(l);
  sum_out(a, a_keep);
  sum_out(b, b_keep);
  std::vector<Label> batch, contracted, a_only, b_only;
  for (Label l : a.labels) {
    if (!in(b, l)) a_only.push_back(l);
    else (keep.count(l) ? batch : contracted).push_back(l);
  }
  for (Label l : b.labels) {
    if (!in(a, l)) b_only.push_back(l);
  }
  std::vector<Label> a_order = batch, b_order = batch;
  a_order.insert(a_order.end(), a_only.begin(), a_only.end());
  a_order.insert(a_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), b_only.begin(), b_only.end());
  permute_to(a, a_order);
  permute_to(b, b_order);
  broadcast(a, size);
  broadcast(b, size);
  const int64_t nb = static_cast<int64_t>(batch.size());
  const Tensor a3 = merge(merge(a.t, nb + static_cast<int64_t>(a_only.size()), static_cast<int64_t>(contracted.size())), nb,
                          static_cast<int64_t>(a_only.size()));
  const Tensor b3 = merge(merge(b.t, nb + static_cast<int64_t>(contracted.size()), static_cast<int64_t>(b_only.size())), nb,
                          static_cast<int64_t>(contracted.size()));
  Tensor out = matmul(a3, b3);  // [batch..., M, N]
  // Split M and N back into their labels.
  auto split = [&](const Tensor& t, int64_t dim, const std::vector<Label>& labels) {
    if (labels.empty()) return squeeze(t, dim);
    if (labels.size() == 1) return t;
    Shape sizes;
    for (Label l : labels) sizes.push_back(size.at(l));
    return unflatten(t, dim, sizes);
  };
  out = split(out, nb + 1, b_only);
  out = split(out, nb, a_only);
  std::vector<Label> labels = batch;
  labels.insert(labels.end(), a_only.begin(), a_only.end());
  labels.insert(labels.end(), b_only.begin(), b_only.end());
  return {out, labels};
}

}  // namespace

Tensor einsum(const std::string& equation_in, const std::vector<Tensor>& operands) {
  std::string equation;
  for (char ch : equation_in) {
    if (ch != ' ') equation += ch;
  }
  TG_CHECK(!operands.empty(), "einsum: no operands");
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  TG_CHECK(terms.size() == operands.size(), "einsum: '", equation_in, "' has ", terms.size(), " operand terms for ",
           operands.size(), " operands");
  // The dims "..." covers: the most any operand has.
  int64_t ellipsis_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    TG_CHECK(operands[i].defined(), "einsum: operand ", i, " is undefined");
    if (terms[i].find("...") != std::string::npos) {
      const int64_t letters = static_cast<int64_t>(terms[i].size()) - 3;
      ellipsis_rank = std::max(ellipsis_rank, operands[i].dim() - letters);
    }
  }
  std::vector<Labeled> xs;
  std::map<Label, int64_t> size;
  std::map<Label, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const std::string what = "operand " + std::to_string(i);
    Labeled x{operands[i], parse_term(terms[i], operands[i].dim(), ellipsis_rank, what)};
    for (size_t d = 0; d < x.labels.size(); ++d) {
      const Label l = x.labels[d];
      TG_CHECK(std::count(x.labels.begin(), x.labels.end(), l) == 1, "einsum: index '", label_name(l),
               "' repeats in ", what, " '", terms[i], "' (diagonals are not supported)");
      const int64_t s = x.t.size(static_cast<int64_t>(d));
      auto [it, inserted] = size.emplace(l, s);
      TG_CHECK(inserted || it->second == s || it->second == 1 || s == 1, "einsum: index '", label_name(l), "' is ",
               it->second, " in one operand and ", s, " in ", what, " (", shape_str(operands[i].shape()), ")");
      if (!inserted && it->second == 1) it->second = s;
      ++count[l];
    }
    xs.push_back(x);
  }
  std::vector<Label> output;
  if (arrow != std::string::npos) {
    output = parse_term(equation.substr(arrow + 2), -1, ellipsis_rank, "output");
    for (Label l : output) {
      TG_CHECK(size.count(l), "einsum: output index '", label_name(l), "' is in no operand");
      TG_CHECK(std::count(output.begin(), output.end(), l) == 1, "einsum: output index '", label_name(l), "' repeats");
    }
  } else {
    // Implicit: the broadcast dims, then the indices that appear once, alphabetically.
    for (int64_t k = 0; k < ellipsis_rank; ++k) output.push_back(static_cast<Label>(kEllipsisBase + k));
    for (const auto& [l, n] : count) {
      if (l < kEllipsisBase && n == 1) output.push_back(l);
    }
  }
  const std::set<Label> out_set(output.begin(), output.end());
  // Left to right: keep what the output or a later operand needs.
  auto needed_after = [&](size_t i) {
    std::set<Label> keep = out_set;
    for (size_t j = i + 1; j < xs.size(); ++j) keep.insert(xs[j].labels.begin(), xs[j].labels.end());
    return keep;
  };
  Labeled acc = xs[0];
  sum_out(acc, needed_after(0));
  for (size_t i = 1; i < xs.size(); ++i) acc = contract(acc, xs[i], needed_after(i), size);
  sum_out(acc, out_set);
  broadcast(acc, size);
  permute_to(acc, output);
  return acc.t;
}

}  // namespace tg
