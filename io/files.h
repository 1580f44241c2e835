// tapegrad/io/files.h: whole-file reads with a size limit and atomic writes (temp file in the
// same directory, fsync, rename, fsync of the directory): a crash during a save leaves the
// previous file intact.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tg::io {

absl::StatusOr<std::string> read_file(const std::string& path, int64_t max_bytes = int64_t{1} << 34);
absl::Status write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace tg::io
