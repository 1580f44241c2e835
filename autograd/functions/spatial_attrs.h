// tapegrad/autograd/functions/spatial_attrs.h: the typed attributes of the 2-D conv and pool op
// families. One struct per family, with the one decode from and encode to the serialized
// attribute map (what a node and a graph file store), the schema apply_op checks, and the
// kernels' parameters. The geometry is validated in one place, ops::conv2d_output_shape /
// ops::pool2d_output_shape, which the wrappers call before recording and the kernels call again.
#pragma once

#include <optional>
#include <vector>

#include "autograd/functions/common.h"
#include "ops/conv.h"
#include "ops/pool.h"

namespace tg::internal {

inline Size2 size2_attr(const Attrs& a, const char* name) {
  const std::vector<int64_t>& v = a.ints(name);
  TG_CHECK(v.size() == 2, "attribute '", name, "' must hold 2 values, got ", v.size());
  return {v[0], v[1]};
}

// conv2d and its two adjoints: stride, padding, dilation (each [h, w]) and groups.
struct Conv2dAttrs {
  Size2 stride{1}, padding{0}, dilation{1};
  int64_t groups = 1;

  static Conv2dAttrs decode(const Attrs& a) {
    return {size2_attr(a, "stride"), size2_attr(a, "padding"), size2_attr(a, "dilation"), a.i("groups")};
  }
  Attrs encode() const {
    return {{"stride", pair(stride)}, {"padding", pair(padding)}, {"dilation", pair(dilation)}, {"groups", groups}};
  }
  ops::Conv2dParams params() const {
    return {stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
  }
  // The rows' schema; the adjoints add the shape they produce.
  static std::vector<AttrSpec> schema(std::vector<AttrSpec> extra = {}) {
    std::vector<AttrSpec> s = {{"stride", AttrType::kInts, 2}, {"padding", AttrType::kInts, 2},
                               {"dilation", AttrType::kInts, 2}, {"groups", AttrType::kInt}};
    s.insert(s.end(), extra.begin(), extra.end());
    return s;
  }
};

// max_pool2d, avg_pool2d and avg_pool2d's adjoint: kernel, stride, padding (each [h, w]) and,
// for average pooling, count_include_pad (true when absent, as in PyTorch).
struct Pool2dAttrs {
  Size2 kernel{2}, stride{2}, padding{0};
  std::optional<bool> count_include_pad;  // average only
  // Written only when not the default, so graphs without them read as before.
  Size2 dilation{1};                       // max only
  bool ceil_mode = false;
  std::optional<int64_t> divisor_override;  // average only

  static Pool2dAttrs decode(const Attrs& a) {
    Pool2dAttrs p{size2_attr(a, "kernel"), size2_attr(a, "stride"), size2_attr(a, "padding"), std::nullopt};
    if (a.has("count_include_pad")) p.count_include_pad = a.b("count_include_pad");
    if (a.has("dilation")) p.dilation = size2_attr(a, "dilation");
    if (a.has("ceil_mode")) p.ceil_mode = a.b("ceil_mode");
    if (a.has("divisor_override")) p.divisor_override = a.i("divisor_override");
    return p;
  }
  Attrs encode() const {
    Attrs a{{"kernel", pair(kernel)}, {"stride", pair(stride)}, {"padding", pair(padding)}};
    if (count_include_pad) a.set("count_include_pad", *count_include_pad);
    if (dilation.h != 1 || dilation.w != 1) a.set("dilation", pair(dilation));
    if (ceil_mode) a.set("ceil_mode", true);
    if (divisor_override) a.set("divisor_override", *divisor_override);
    return a;
  }
  ops::Pool2dParams params() const {
    ops::Pool2dParams p{kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w, count_include_pad.value_or(true)};
    p.dilation_h = dilation.h;
    p.dilation_w = dilation.w;
    p.ceil_mode = ceil_mode;
    p.divisor_override = divisor_override.value_or(0);
    return p;
  }
  static std::vector<AttrSpec> schema(bool average, std::vector<AttrSpec> extra = {}) {
    std::vector<AttrSpec> s = {{"kernel", AttrType::kInts, 2}, {"stride", AttrType::kInts, 2},
                               {"padding", AttrType::kInts, 2}, {"ceil_mode", AttrType::kBool, -1, true}};
    if (average) {
      s.push_back({"count_include_pad", AttrType::kBool, -1, true});
      s.push_back({"divisor_override", AttrType::kInt, -1, true});
    } else {
      s.push_back({"dilation", AttrType::kInts, 2, true});
    }
    s.insert(s.end(), extra.begin(), extra.end());
    return s;
  }
};

}  // namespace tg::internal
