// tapegrad/nn/linear.cc: the Linear layer.
#include "nn/linear.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "nn/init.h"

namespace tg::nn {

Linear::Linear(LinearOptions o) : Module("Linear"), options(o) {
  TG_CHECK(o.in_features > 0 && o.out_features > 0, "Linear: features must be positive, got in=", o.in_features,
           " out=", o.out_features);
  weight = register_parameter("weight", zeros({o.out_features, o.in_features}, o.dtype));
  if (o.bias) bias = register_parameter("bias", zeros({o.out_features}, o.dtype));
  reset_parameters();
}

void Linear::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) { return linear(input, weight, bias); }

std::string Linear::extra_repr() const {
  return absl::StrCat("in_features=", options.in_features, ", out_features=", options.out_features,
                      ", bias=", options.bias ? "true" : "false");
}

}  // namespace tg::nn
