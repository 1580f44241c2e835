// tapegrad/io/text_corpus.cc: reading a corpus, its byte vocabulary, the split and the windows.
#include "io/text_corpus.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "autograd/tapegrad.h"
#include "io/files.h"

namespace tg::io {

std::string TextCorpus::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (int64_t id : ids) {
    TG_CHECK(id >= 0 && id < vocab_size(), "TextCorpus::decode: token ", id, " is outside the vocabulary of ",
             vocab_size());
    text.push_back(static_cast<char>(vocabulary[id]));
  }
  return text;
}

std::vector<int64_t> TextCorpus::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text) {
    const auto it = std::lower_bound(vocabulary.begin(), vocabulary.end(), c);
    TG_CHECK(it != vocabulary.end() && *it == c, "TextCorpus::encode: byte ", static_cast<int>(c),
             " is not in the corpus's vocabulary");
    ids.push_back(it - vocabulary.begin());
  }
  return ids;
}

absl::StatusOr<TextCorpus> text_corpus_from_bytes(const std::string& bytes, const std::string& source,
                                                  const TextCorpusOptions& options) {
  if (!(options.validation_fraction >= 0 && options.validation_fraction < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": validation_fraction must be in [0, 1), got ",
                                                   options.validation_fraction));
  }
  if (static_cast<int64_t>(bytes.size()) < std::max<int64_t>(options.min_bytes, 2)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", bytes.size(), " bytes of text, fewer than ",
                                                   std::max<int64_t>(options.min_bytes, 2), " (TextCorpusOptions::min_bytes)"));
  }
  TextCorpus corpus;
  bool present[256] = {};
  for (unsigned char c : bytes) present[c] = true;
  int64_t id[256];
  for (int b = 0; b < 256; ++b) {
    id[b] = present[b] ? static_cast<int64_t>(corpus.vocabulary.size()) : -1;
    if (present[b]) corpus.vocabulary.push_back(static_cast<unsigned char>(b));
  }
  const auto n = static_cast<int64_t>(bytes.size());
  const int64_t split = n - static_cast<int64_t>(std::floor(n * options.validation_fraction));
  corpus.train.reserve(split);
  corpus.validation.reserve(n - split);
  for (int64_t i = 0; i < n; ++i) (i < split ? corpus.train : corpus.validation).push_back(id[static_cast<unsigned char>(bytes[i])]);
  return corpus;
}

absl::StatusOr<TextCorpus> load_text_corpus(const std::string& path, const TextCorpusOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    auto bytes = read_file(path, options.max_bytes);
    if (!bytes.ok()) return bytes.status();
    return text_corpus_from_bytes(*bytes, path, options);
  }
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->is_symlink(error) || !it->is_regular_file(error) || name[0] == '.' || it->path().extension() == ".dat") {
      continue;
    }
    files.push_back(it->path());
  }
  if (error) return absl::NotFoundError(absl::StrCat(path, ": cannot list the folder: ", error.message()));
  std::sort(files.begin(), files.end());
  std::string bytes;
  for (const auto& f : files) {
    auto part = read_file(f.string(), options.max_bytes - static_cast<int64_t>(bytes.size()));
    if (!part.ok()) {
      return absl::Status(part.status().code(), absl::StrCat(part.status().message(), " (the corpus ", path,
                                                             " holds at most TextCorpusOptions::max_bytes = ",
                                                             options.max_bytes, ")"));
    }
    bytes += *part;
  }
  return text_corpus_from_bytes(bytes, path, options);
}

Batch random_windows(const std::vector<int64_t>& tokens, int64_t batch, int64_t context) {
  const auto n = static_cast<int64_t>(tokens.size());
  TG_CHECK(batch > 0 && context > 0, "random_windows: batch and context must be positive, got ", batch, " and ",
           context);
  TG_CHECK(n > context, "random_windows: ", n, " tokens cannot hold a window of ", context, " + 1");
  const std::vector<int64_t> starts = randint(0, n - context, {batch}).to_vector<int64_t>();
  std::vector<int64_t> x, y;
  x.reserve(batch * context);
  y.reserve(batch * context);
  for (int64_t s : starts) {
    x.insert(x.end(), tokens.begin() + s, tokens.begin() + s + context);
    y.insert(y.end(), tokens.begin() + s + 1, tokens.begin() + s + context + 1);
  }
  return {tensor(x, {batch, context}, kInt64), tensor(y, {batch, context}, kInt64)};
}

}  // namespace tg::io
