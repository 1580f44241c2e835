// tapegrad/ops/version_test.cc: tg::version() is the VERSION file's string and its parts.
#include "ops/version.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace tg {
namespace {

TEST(Version, MatchesTheVersionFile) {
  std::ifstream in("VERSION");
  ASSERT_TRUE(in) << "VERSION not found in the test's runfiles";
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, version());
  EXPECT_EQ(text, std::to_string(kVersionMajor) + "." + std::to_string(kVersionMinor) + "." +
                      std::to_string(kVersionPatch));
}

}  // namespace
}  // namespace tg
