// tapegrad/nn/pooling.cc: descriptions of the pooling layers.
#include "nn/pooling.h"

#include "absl/strings/str_cat.h"

namespace tg::nn {

static std::string pair_str(Size2 s) { return absl::StrCat("(", s.h, ", ", s.w, ")"); }

std::string MaxPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", pair_str(kernel), ", stride=", pair_str(stride), ", padding=", pair_str(padding));
}

std::string AvgPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", pair_str(kernel), ", stride=", pair_str(stride), ", padding=", pair_str(padding),
                      count_include_pad ? "" : ", count_include_pad=false");
}

}  // namespace tg::nn
