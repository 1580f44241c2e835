// tapegrad/io/testing/tmp_path.h: a path for a scratch file in the test's temporary directory
// (Bazel's TEST_TMPDIR, /tmp when run by hand).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tg::io::testing {

inline std::string tmp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir ? dir : "/tmp") / name).string();
}

}  // namespace tg::io::testing
