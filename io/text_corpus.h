// tapegrad/io/text_corpus.h: a byte-level text corpus for language models (the char_lm and
// char_gpt examples, the benchmarks): the bytes of a file, or of a folder's files in name order,
// as token ids into the corpus's vocabulary (its distinct bytes, ascending), with the last part
// held out for validation, and random windows of it as (input, next-token target) batches.
//   auto corpus = tg::io::load_text_corpus("/usr/share/games/fortunes");   // absl::StatusOr
//   tg::io::Batch b = tg::io::random_windows(corpus->train, 32, 128);      // [32, 128] each
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "io/data_loader.h"

namespace tg::io {

struct TextCorpus {
  std::vector<unsigned char> vocabulary;   // distinct bytes, ascending: token id i is vocabulary[i]
  std::vector<int64_t> train, validation;  // token ids
  int64_t vocab_size() const { return static_cast<int64_t>(vocabulary.size()); }
  // Token ids to text and back; an id out of range or a byte outside the vocabulary is an Error.
  std::string decode(const std::vector<int64_t>& ids) const;
  std::vector<int64_t> encode(const std::string& text) const;
};

struct TextCorpusOptions {
  double validation_fraction = 0.1;  // the last part of the text, in [0, 1)
  int64_t max_bytes = int64_t{1} << 30;
  int64_t min_bytes = 2;             // fewer is refused (a corpus too small to train on)
};

// PATH is a file, or a folder whose regular files (not symlinks, not hidden, not .dat indexes)
// are read in name order. Errors name the path: missing, empty, too large.
absl::StatusOr<TextCorpus> load_text_corpus(const std::string& path, const TextCorpusOptions& options = {});
absl::StatusOr<TextCorpus> text_corpus_from_bytes(const std::string& bytes, const std::string& source,
                                                  const TextCorpusOptions& options = {});

// `batch` windows of context + 1 consecutive tokens at random offsets (the default generator:
// manual_seed makes them repeatable): inputs [B, T] and targets [B, T], the targets one token
// ahead. `tokens` must hold more than `context` tokens.
Batch random_windows(const std::vector<int64_t>& tokens, int64_t batch, int64_t context);

}  // namespace tg::io
