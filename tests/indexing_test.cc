// tapegrad/tests/indexing_test.cc: indexing, slicing and rearranging against Debian's PyTorch
// (tests/reference/indexing_reference.py): the same named expressions on arange(24) as [2, 3, 4],
// compared in shape, values and the gradient of a weighted sum; every entry needs an expression
// here and every expression an entry. Plus the errors a bad index gets.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg {
namespace {

#include "tests/reference/indexing_reference.inc"

using namespace indexing;  // NOLINT(build/namespaces): Slice, None, Ellipsis as in LibTorch code
using ::testing::HasSubstr;

Tensor ints(const std::vector<int64_t>& v, const Shape& s) { return tensor(v, s, kInt64); }
Tensor mask() {
  return tensor(std::vector<double>{1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0}, {3, 4}, kFloat64) > 0.5;
}
Tensor flat_cat(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flat;
  for (size_t i = 0; i < parts.size(); ++i) flat.push_back(reshape(parts[i], {-1}) * static_cast<double>(i + 1));
  return cat(flat);
}

const std::map<std::string, std::function<Tensor(const Tensor&)>>& expressions() {
  static const auto* table = new std::map<std::string, std::function<Tensor(const Tensor&)>>{
      {"index_int_slice_none", [](const Tensor& x) { return x.index({0, Slice(1, -1), None}); }},
      {"index_ellipsis_last", [](const Tensor& x) { return x.index({"...", -1}); }},
      {"index_step_slice", [](const Tensor& x) { return x.index({Slice(), Slice(None, None, 2), Slice(1, 4, 2)}); }},
      {"index_negative_int", [](const Tensor& x) { return x.index({-1, -2}); }},
      {"index_tensor", [](const Tensor& x) { return x.index({Slice(), ints({2, 0, -1, 2}, {4})}); }},
      {"index_tensor_2d", [](const Tensor& x) { return x.index({1, Slice(), ints({0, 3, 1, 1}, {2, 2})}); }},
      {"index_bool_mask", [](const Tensor& x) { return x.index({Slice(), mask()}); }},
      {"index_true", [](const Tensor& x) { return x.index({true, 0}); }},
      {"select_negative", [](const Tensor& x) { return x.select(1, -1); }},
      {"narrow_negative", [](const Tensor& x) { return narrow(x, 2, -2, 2); }},
      {"chunk_uneven", [](const Tensor& x) { return flat_cat(x.chunk(3, 2)); }},
      {"split_sizes", [](const Tensor& x) { return flat_cat(split(x, std::vector<int64_t>{1, 2}, 1)); }},
      {"unbind_1", [](const Tensor& x) { return flat_cat(x.unbind(1)); }},
      {"flip_0_2", [](const Tensor& x) { return x.flip({0, 2}); }},
      {"roll_dims", [](const Tensor& x) { return roll(x, {1, -3}, {1, 2}); }},
      {"roll_flat", [](const Tensor& x) { return roll(x, 5); }},
      {"repeat", [](const Tensor& x) { return x.select(0, 0).repeat({2, 1, 3}); }},
      {"repeat_interleave_dim", [](const Tensor& x) { return repeat_interleave(x, 2, 1); }},
      {"repeat_interleave_flat", [](const Tensor& x) { return repeat_interleave(x.index({0, 0}), 3); }},
      {"repeat_interleave_tensor", [](const Tensor& x) { return repeat_interleave(x, ints({2, 0, 1}, {3}), 1); }},
      {"tril", [](const Tensor& x) { return tril(x); }},
      {"triu_1", [](const Tensor& x) { return triu(x, 1); }},
      {"tril_minus1", [](const Tensor& x) { return tril(x, -1); }},
      {"masked_fill", [](const Tensor& x) { return x.masked_fill(mask(), -1.5); }},
      {"masked_select", [](const Tensor& x) { return masked_select(x, mask()); }},
      {"pad_constant", [](const Tensor& x) { return pad(x, {1, 2, 0, 1}, "constant", 0.5); }},
      {"pad_crop", [](const Tensor& x) { return pad(x, {-1, 2, 1, -1}); }},
      {"pad_reflect", [](const Tensor& x) { return pad(x, {2, 3, 1, 2}, "reflect"); }},
      {"pad_replicate", [](const Tensor& x) { return pad(x, {2, 1, 2, 0}, "replicate"); }},
      {"nonzero", [](const Tensor& x) { return nonzero(remainder(x, 5) == 1); }},
      {"one_hot", [](const Tensor&) { return one_hot(ints({2, 0, 1, 3}, {2, 2}), 5); }},
      {"one_hot_infer", [](const Tensor&) { return one_hot(ints({0, 2, 1}, {3})); }},
  };
  return *table;
}

const std::vector<double>* find(const std::string& name) {
  auto it = kIndexingReference.find(name);
  return it == kIndexingReference.end() ? nullptr : &it->second;
}

TEST(IndexingReference, EveryEntryHasAnExpressionAndEveryExpressionAnEntry) {
  std::set<std::string> names;
  for (const auto& [name, values] : kIndexingReference) names.insert(name.substr(0, name.find('/')));
  for (const std::string& n : names) EXPECT_TRUE(expressions().count(n)) << n << ": no expression in this test";
  for (const auto& [n, fn] : expressions()) EXPECT_TRUE(find(n + "/values")) << n << ": no reference entry";
}

TEST(IndexingReference, ShapesValuesAndGradientsAsPytorch) {
  for (const auto& [name, fn] : expressions()) {
    SCOPED_TRACE(name);
    Tensor x = reshape(arange(24, kFloat64), {2, 3, 4}).detach().set_requires_grad();
    const Tensor out = fn(x);
    std::vector<double> shape;
    for (int64_t d : out.shape()) shape.push_back(static_cast<double>(d));
    ASSERT_TRUE(find(name + "/shape"));
    EXPECT_EQ(shape, *find(name + "/shape"));
    EXPECT_EQ(out.to_vector<double>(), *find(name + "/values"));
    const std::vector<double>* want_grad = find(name + "/grad");
    if (!want_grad) {
      EXPECT_FALSE(out.requires_grad());
      continue;
    }
    const Tensor w = reshape(arange(1, out.numel() + 1, 1, kFloat64), out.shape());
    const Tensor g = autograd::grad({sum(out * w)}, {x})[0];
    EXPECT_EQ(g.to_vector<double>(), *want_grad);
  }
}

TEST(IndexingErrors, NameTheIndexAndTheShape) {
  const Tensor x = zeros({2, 3});
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_THAT(message([&] { x.index({2}); }), HasSubstr("index: index 2 is out of range for dimension 0 of size 2 (tensor [2,3])"));
  EXPECT_THAT(message([&] { x.index({0, 0, 0}); }), HasSubstr("index: 3 indexed dims for a tensor [2,3]"));
  EXPECT_THAT(message([&] { x.index({"..", 0}); }), HasSubstr("the only string index is \"...\""));
  EXPECT_THAT(message([&] { x.index({"...", "..."}); }), HasSubstr("at most one \"...\""));
  EXPECT_THAT(message([&] { x.index({Slice(None, None, -1)}); }), HasSubstr("slice step must be positive"));
  EXPECT_THAT(message([&] { x.index({Slice(), tensor(std::vector<int64_t>{3}, {1})}); }),
              HasSubstr("index: index 3 is out of range for dimension 1 of size 3"));
  EXPECT_THAT(message([&] { select(x, 1, -4); }), HasSubstr("select: index -4 is out of range for dimension 1 of size 3"));
  EXPECT_THAT(message([&] { split(x, std::vector<int64_t>{1, 1}, 1); }), HasSubstr("split: sizes [1,1] sum to 2, dim 1 of [2,3] has 3"));
  EXPECT_THAT(message([&] { pad(x, {3, 0}, "reflect"); }), HasSubstr("reflect padding 3, 0 must be smaller than dim 1"));
  EXPECT_THAT(message([&] { pad(x, {1}); }), HasSubstr("must be pairs"));
  EXPECT_THAT(message([&] { pad(x, {1, 1}, "wrap"); }), HasSubstr("mode must be"));
  EXPECT_THAT(message([&] { one_hot(tensor(std::vector<int64_t>{4}, {1}), 3); }), HasSubstr("one_hot: index 4 is out of range for 3 classes"));
  EXPECT_THAT(message([&] { masked_fill(x, zeros({3}), 1.0); }), HasSubstr("masked_fill: mask must be bool"));
  EXPECT_THAT(message([&] { masked_fill(arange(3), arange(3) > 0, 0.5); }), HasSubstr("does not fit the int64 tensor"));
}

}  // namespace
}  // namespace tg
