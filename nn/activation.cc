// tapegrad/nn/activation.cc: descriptions and checks of the parameter-free layers.
#include "nn/activation.h"

#include "absl/strings/str_cat.h"

namespace tg::nn {

std::string LeakyReLU::extra_repr() const { return absl::StrCat("negative_slope=", negative_slope); }
std::string Softmax::extra_repr() const { return absl::StrCat("dim=", dim); }
std::string LogSoftmax::extra_repr() const { return absl::StrCat("dim=", dim); }

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  TG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability must be in [0, 1], got ", p);
}
std::string Dropout::extra_repr() const { return absl::StrCat("p=", p); }

std::string Flatten::extra_repr() const { return absl::StrCat("start_dim=", start_dim, ", end_dim=", end_dim); }

}  // namespace tg::nn
