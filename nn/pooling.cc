// tapegrad/nn/pooling.cc: descriptions of the pooling and pixel-shuffle layers.
#include "nn/pooling.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tg::nn {

static std::string pair_str(Size2 s) { return absl::StrCat("(", s.h, ", ", s.w, ")"); }

std::string MaxPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", pair_str(kernel), ", stride=", pair_str(stride), ", padding=", pair_str(padding),
                      dilation.h != 1 || dilation.w != 1 ? absl::StrCat(", dilation=", pair_str(dilation)) : "",
                      ceil_mode ? ", ceil_mode=true" : "");
}

std::string AvgPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", pair_str(kernel), ", stride=", pair_str(stride), ", padding=", pair_str(padding),
                      ceil_mode ? ", ceil_mode=true" : "", count_include_pad ? "" : ", count_include_pad=false",
                      divisor_override ? absl::StrCat(", divisor_override=", *divisor_override) : "");
}

std::string MaxPool1d::extra_repr() const {
  return absl::StrCat("kernel_size=", kernel, ", stride=", stride, ", padding=", padding,
                      dilation != 1 ? absl::StrCat(", dilation=", dilation) : "", ceil_mode ? ", ceil_mode=true" : "");
}
std::string AvgPool1d::extra_repr() const {
  return absl::StrCat("kernel_size=", kernel, ", stride=", stride, ", padding=", padding,
                      ceil_mode ? ", ceil_mode=true" : "", count_include_pad ? "" : ", count_include_pad=false");
}
std::string AdaptiveAvgPool1d::extra_repr() const { return absl::StrCat("output_size=", output_size); }
std::string AdaptiveAvgPool2d::extra_repr() const { return absl::StrCat("output_size=", pair_str(output_size)); }
std::string AdaptiveMaxPool2d::extra_repr() const { return absl::StrCat("output_size=", pair_str(output_size)); }
std::string PixelShuffle::extra_repr() const { return absl::StrCat("upscale_factor=", upscale_factor); }
std::string PixelUnshuffle::extra_repr() const { return absl::StrCat("downscale_factor=", downscale_factor); }

std::string Upsample::extra_repr() const {
  std::string s = options.size ? absl::StrCat("size=(", absl::StrJoin(*options.size, ", "), ")")
                               : absl::StrCat("scale_factor=(", absl::StrJoin(*options.scale_factor, ", "), ")");
  return absl::StrCat(s, ", mode='", options.mode, "'");
}

}  // namespace tg::nn
