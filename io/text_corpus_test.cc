// tapegrad/io/text_corpus_test.cc: the corpus reader (a folder's files in name order, skipping
// .dat indexes, symlinks, hidden files and folders), the vocabulary, the validation split, encode
// and decode, random windows, and the errors.
#include <filesystem>
#include <fstream>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"
#include "io/text_corpus.h"

namespace tg::io {
namespace {

std::string message(const absl::Status& s) { return std::string(s.message()); }

TEST(TextCorpus, ReadsRegularFilesInNameOrderSkippingIndexesSymlinksAndHiddenFiles) {
  const std::filesystem::path dir = testing::tmp_path("corpus");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "b") << std::string(600, 'b');
  std::ofstream(dir / "a") << std::string(600, 'z') << "a";
  std::ofstream(dir / "a.dat") << "IGNORED";
  std::ofstream(dir / ".hidden") << "IGNORED";
  std::filesystem::create_symlink(dir / "a", dir / "link");
  auto c = load_text_corpus(dir.string(), {.validation_fraction = 0});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->vocabulary, (std::vector<unsigned char>{'a', 'b', 'z'}));
  ASSERT_EQ(c->train.size(), 1201u);
  EXPECT_TRUE(c->validation.empty());
  EXPECT_EQ(c->train.front(), 2);  // "a" first: 'z' is id 2
  EXPECT_EQ(c->train[600], 0);     // then its 'a'
  EXPECT_EQ(c->train.back(), 1);   // then "b"
}

TEST(TextCorpus, HoldsOutTheLastPartAndEncodesBothWays) {
  auto c = text_corpus_from_bytes("hello world, hello corpus", "text", {.validation_fraction = 0.2});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->train.size() + c->validation.size(), 25u);
  EXPECT_EQ(c->validation.size(), 5u);  // floor(25 * 0.2)
  EXPECT_EQ(c->decode(c->validation), "orpus");
  EXPECT_EQ(c->decode(c->encode("hello")), "hello");
  EXPECT_THROW(c->encode("hex"), Error);          // 'x' is not in the vocabulary
  EXPECT_THROW(c->decode({c->vocab_size()}), Error);
  EXPECT_THROW(c->decode({-1}), Error);
}

TEST(TextCorpus, RandomWindowsAreRepeatableAndShiftedByOne) {
  auto c = text_corpus_from_bytes("abcdefghijklmnopqrstuvwxyz", "alphabet", {.validation_fraction = 0});
  ASSERT_TRUE(c.ok());
  manual_seed(4);
  const Batch a = random_windows(c->train, 64, 5);
  manual_seed(4);
  const Batch b = random_windows(c->train, 64, 5);
  EXPECT_TRUE(equal(a.inputs, b.inputs));
  EXPECT_EQ(a.inputs.shape(), (Shape{64, 5}));
  EXPECT_TRUE(equal(a.inputs + 1, a.targets));  // the alphabet: the next letter's id is one more
  EXPECT_EQ(max(a.targets).item<int64_t>(), 25);     // the last window is reachable
  EXPECT_THROW(random_windows(c->train, 2, 26), Error);  // 26 tokens hold no window of 26 + 1
  EXPECT_THROW(random_windows(c->train, 0, 5), Error);
}

TEST(TextCorpus, BadInputIsRefusedNamingIt) {
  EXPECT_EQ(load_text_corpus(testing::tmp_path("no_such_corpus")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(message(text_corpus_from_bytes("x", "tiny.txt").status()).find("tiny.txt: 1 bytes of text"),
            std::string::npos);
  EXPECT_NE(message(text_corpus_from_bytes("abc", "t", {.validation_fraction = 1}).status()).find("validation_fraction"),
            std::string::npos);
  const std::filesystem::path dir = testing::tmp_path("big_corpus");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a") << std::string(100, 'a');
  std::ofstream(dir / "b") << std::string(100, 'b');
  const auto big = load_text_corpus(dir.string(), {.max_bytes = 150});
  EXPECT_FALSE(big.ok());
  EXPECT_NE(message(big.status()).find("max_bytes = 150"), std::string::npos) << big.status();
  std::filesystem::create_directories(testing::tmp_path("empty_corpus"));
  EXPECT_FALSE(load_text_corpus(testing::tmp_path("empty_corpus")).ok());
}

}  // namespace
}  // namespace tg::io
