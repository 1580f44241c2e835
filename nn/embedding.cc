// tapegrad/nn/embedding.cc: the Embedding layer.
#include "nn/embedding.h"

#include "absl/strings/str_cat.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "nn/init.h"

namespace tg::nn {

Embedding::Embedding(EmbeddingOptions o) : Module("Embedding"), options(o) {
  TG_CHECK(o.num_embeddings > 0 && o.embedding_dim > 0, "Embedding: num_embeddings and embedding_dim must be positive, got ",
           o.num_embeddings, " and ", o.embedding_dim);
  TG_CHECK(!o.padding_idx || (*o.padding_idx >= -o.num_embeddings && *o.padding_idx < o.num_embeddings),
           "Embedding: padding_idx ", o.padding_idx.value_or(0), " is out of range for ", o.num_embeddings, " embeddings");
  weight = register_parameter("weight", zeros({o.num_embeddings, o.embedding_dim}, o.dtype));
  reset_parameters();
}

std::shared_ptr<Embedding> Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                                      std::optional<int64_t> padding_idx) {
  TG_CHECK(embeddings.dim() == 2, "Embedding::from_pretrained: embeddings must be 2-D, got ", shape_str(embeddings.shape()));
  auto e = std::make_shared<Embedding>(
      EmbeddingOptions{embeddings.size(0), embeddings.size(1), padding_idx, std::nullopt, 2.0, embeddings.dtype()});
  {
    NoGradGuard no_grad;
    ops::overwrite(e->weight.data(), embeddings.data(), "Embedding::from_pretrained");
  }
  e->weight.set_requires_grad(!freeze);
  return e;
}

void Embedding::reset_parameters() {
  init::normal_(weight);
  if (options.padding_idx) {
    const int64_t row = *options.padding_idx < 0 ? *options.padding_idx + options.num_embeddings : *options.padding_idx;
    NoGradGuard no_grad;
    ops::overwrite(weight.data().slice(0, row, row + 1), ops::Array::zeros({1, options.embedding_dim}, weight.dtype()),
                   "Embedding::reset_parameters");
  }
}

Tensor Embedding::forward(const Tensor& input) {
  return embedding(input, weight, options.padding_idx, options.max_norm, options.norm_type);
}

std::string Embedding::extra_repr() const {
  std::string s = absl::StrCat(options.num_embeddings, ", ", options.embedding_dim);
  if (options.padding_idx) absl::StrAppend(&s, ", padding_idx=", *options.padding_idx);
  if (options.max_norm) absl::StrAppend(&s, ", max_norm=", *options.max_norm);
  return s;
}

}  // namespace tg::nn
