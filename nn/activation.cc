// tapegrad/nn/activation.cc: descriptions and checks of the activation and shape-keeping layers.
#include "nn/activation.h"

#include "absl/strings/str_cat.h"

namespace tg::nn {

std::string LeakyReLU::extra_repr() const { return absl::StrCat("negative_slope=", negative_slope); }
GELU::GELU(std::string approximate) : Module("GELU"), approximate(std::move(approximate)) {
  TG_CHECK(this->approximate == "none" || this->approximate == "tanh", "GELU: approximate must be 'none' or 'tanh', got '",
           this->approximate, "'");
}
std::string GELU::extra_repr() const { return approximate == "none" ? "" : absl::StrCat("approximate='", approximate, "'"); }
std::string ELU::extra_repr() const { return absl::StrCat("alpha=", alpha); }
std::string CELU::extra_repr() const { return absl::StrCat("alpha=", alpha); }
std::string Softplus::extra_repr() const { return absl::StrCat("beta=", beta, ", threshold=", threshold); }
Hardtanh::Hardtanh(double min_val, double max_val) : Module("Hardtanh"), min_val(min_val), max_val(max_val) {
  TG_CHECK(min_val < max_val, "Hardtanh: min_val ", min_val, " must be below max_val ", max_val);
}
std::string Hardtanh::extra_repr() const { return absl::StrCat("min_val=", min_val, ", max_val=", max_val); }
PReLU::PReLU(int64_t num_parameters, double init, DType dtype) : Module("PReLU") {
  TG_CHECK(num_parameters > 0, "PReLU: num_parameters must be positive, got ", num_parameters);
  weight = register_parameter("weight", full({num_parameters}, init, dtype));
}
std::string PReLU::extra_repr() const { return absl::StrCat("num_parameters=", weight.numel()); }
std::string GLU::extra_repr() const { return absl::StrCat("dim=", dim); }
std::string Softmax::extra_repr() const { return absl::StrCat("dim=", dim); }
std::string LogSoftmax::extra_repr() const { return absl::StrCat("dim=", dim); }

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  TG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability must be in [0, 1], got ", p);
}
std::string Dropout::extra_repr() const { return absl::StrCat("p=", p); }

std::string Flatten::extra_repr() const { return absl::StrCat("start_dim=", start_dim, ", end_dim=", end_dim); }

}  // namespace tg::nn
