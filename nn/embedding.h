// tapegrad/nn/embedding.h: Embedding, a learnable [num_embeddings, embedding_dim] table whose
// forward looks up rows at int64 indices (any shape -> [*shape, embedding_dim]), as torch::nn::Embedding.
//   nn::Embedding emb(nn::EmbeddingOptions{256, 64});   // 256-byte vocabulary, 64 features
//   Tensor h = emb.forward(tokens);                      // tokens [N, T] int64 -> [N, T, 64]
#pragma once

#include <optional>

#include "nn/module.h"

namespace tg::nn {

struct EmbeddingOptions {
  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx = std::nullopt;  // that row starts at zero and gets no gradient
  std::optional<double> max_norm = std::nullopt;      // rows read are rescaled to at most this norm
  double norm_type = 2.0;
  DType dtype = kFloat32;
};

class Embedding : public Module {
 public:
  explicit Embedding(EmbeddingOptions options);
  Embedding(int64_t num_embeddings, int64_t embedding_dim) : Embedding(EmbeddingOptions{num_embeddings, embedding_dim}) {}
  // A table initialized from `embeddings` (copied), frozen unless freeze is false.
  static std::shared_ptr<Embedding> from_pretrained(const Tensor& embeddings, bool freeze = true,
                                                    std::optional<int64_t> padding_idx = std::nullopt);
  Tensor forward(const Tensor& input) override;
  // weight ~ N(0, 1), the padding row zero.
  void reset_parameters();
  std::string extra_repr() const override;

  const EmbeddingOptions options;
  Tensor weight;
};

}  // namespace tg::nn
